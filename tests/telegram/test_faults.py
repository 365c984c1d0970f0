"""Faults: what Telegram, the disk and the database do wrong, while users keep asking.

- a soak of many updates from many users while the Bot API server fails, throttles and
  stalls a share of requests (the bot runs as a real `python -m bot run` process);
- knowledge swaps, valid and invalid, while questions are answered;
- SIGTERM in the middle of a burst;
- the PostgreSQL question log stopped and started again mid-run.

Counts default to what CI affords; `SOAK_UPDATES`, `RELOAD_QUESTIONS` scale them up (`make
soak`). Each test records its figures for the README table (tests/results.py).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.answers import Engine
from bot.knowledge import content_version
from tests.results import record, scale
from tests.telegram.conftest import KNOWLEDGE
from tests.telegram.fake_bot_api import Call, FakeBotApi, user
from tests.telegram.harness import (
    BotProcess,
    Watched,
    all_logs_at_debug,
    processes,
    start_process,
    start_watched,
    watched_stop,
)
from tests.test_storage import NoServer, PgServer, _need, pg_database, pg_server, raw

__all__ = ["pg_server", "processes", "watched_stop"]  # fixtures, used by name

FAILED = re.compile(r"bot\.telegram_handlers: Update (\d+)")
"""The error handler's line for an update it gave up on (network error, flood, bug)."""


def answered_questions(engine: Engine) -> dict[str, str]:
    """One English question per entry that the engine answers with that entry."""
    found = {}
    for entry in engine.kb.entries:
        for question in entry.questions.en:
            if engine.ask(question).entry == entry.id:
                found[entry.id] = question
                break
    assert len(found) >= 10
    return found


def entry_of(call: Call) -> str | None:
    """The entry a sent answer is about, from its 👍 button."""
    for data in call.actions:
        if data.startswith("fb:+:"):
            return data.split(":")[3]
    return None


# -- the soak ------------------------------------------------------------------------------------


async def test_soak_under_server_faults(
    api: FakeBotApi, tmp_path: Path, engine: Engine, processes: list[BotProcess]
) -> None:
    total = scale(1000, "SOAK_UPDATES")
    questions = answered_questions(engine)
    entries = sorted(questions)
    users = [user(100_000 + i, f"S{i}", "en") for i in range(max(40, total // 4))]
    # Half private questions (each user asks each entry at most once, so a reply names its
    # question), half inline queries; spread over the users.
    plan: list[tuple[str, dict[str, Any], str]] = []
    asked: Counter[int] = Counter()
    for n in range(total):
        someone = users[n % len(users)]
        j = asked[someone["id"]]
        if n % 2 == 0 and j < len(entries):
            asked[someone["id"]] += 1
            plan.append(("q", someone, entries[j]))
        else:
            plan.append(("inline", someone, entries[n % len(entries)]))
    assert len({(p[1]["id"], p[2]) for p in plan if p[0] == "q"}) == sum(
        1 for p in plan if p[0] == "q"
    ), "a user asks each entry once"

    bot = await start_process(api, tmp_path)
    processes.append(bot)
    chaos = api.unleash(error_rate=0.05, throttle_rate=0.01, slow_rate=0.005, slow_by=6.0)
    started = time.monotonic()
    expected: dict[object, int] = {}  # (chat, entry) or inline query id -> update id
    rss: list[float] = []

    def inject(part: list[tuple[str, dict[str, Any], str]]) -> None:
        for kind, someone, entry in part:
            if kind == "q":
                update_id = api.say(someone, questions[entry])
                expected[(someone["id"], entry)] = update_id
            else:
                query_id = f"IQ-soak-{len(expected)}"
                query = {"id": query_id, "from": someone, "query": questions[entry], "offset": ""}
                expected[query_id] = api.inject({"inline_query": query})

    tally = Tally()
    warmup = max(20, total // 10)
    inject(plan[:warmup])
    await _settle(api, bot, expected, tally, rss, timeout=60 + warmup / 10)
    baseline = bot.rss_mb()
    for start in range(warmup, total, 100):
        # Users keep coming as fast as the bot answers, never thousands ahead: PTB fetches
        # every pending update at once, so a huge backlog would measure the backlog, not a leak.
        deadline = time.monotonic() + 30
        while _outstanding(expected, tally) > BACKLOG and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            tally.update(api, bot)
        inject(plan[start : start + 100])
        rss.append(bot.rss_mb())
    await _settle(api, bot, expected, tally, rss, timeout=60 + total / 12)
    delivered, failed = tally.delivered, tally.failed
    elapsed = time.monotonic() - started
    final = bot.rss_mb()
    api.chaos = None
    exit_code = await bot.terminate()

    duplicates = {k: n for k, n in delivered.items() if n > 1}
    unexpected = set(delivered) - set(expected)
    lost = [k for k, u in expected.items() if delivered.get(k, 0) == 0 and u not in failed]
    counted_failed = [k for k, u in expected.items() if delivered.get(k, 0) == 0 and u in failed]
    growth = final - baseline
    record(
        "soak",
        updates=total,
        private_questions=sum(1 for p in plan if p[0] == "q"),
        inline_queries=sum(1 for p in plan if p[0] == "inline"),
        users=len(users),
        replies=sum(1 for k in expected if delivered.get(k, 0) >= 1),
        failed_after_retries=len(counted_failed),
        lost=len(lost),
        duplicates=len(duplicates),
        requests=chaos.requests,
        injected_500=chaos.injected.get("500", 0),
        injected_429=chaos.injected.get("429", 0),
        injected_slow=chaos.injected.get("slow", 0),
        rss_start_mb=round(baseline, 1),
        rss_end_mb=round(final, 1),
        rss_peak_mb=round(max([baseline, final, *rss]), 1),
        rss_growth_mb=round(growth, 1),
        seconds=round(elapsed, 1),
        exit_code=exit_code,
        questions_logged=_question_rows(bot.data_dir / "questions.db"),
    )
    assert exit_code == 0, bot.log[-3000:]
    assert not lost, f"{len(lost)} questions neither answered nor counted failed: {lost[:5]}"
    assert not duplicates, f"answered twice: {list(duplicates)[:5]}"
    assert not unexpected, f"answers to nothing asked: {list(unexpected)[:5]}"
    assert chaos.injected.get("500", 0) > 0 and chaos.injected.get("429", 0) > 0
    assert growth < 20, f"RSS grew by {growth:.1f} MB"


BACKLOG = 300
"""Questions asked but not yet answered (or failed) that the soak allows before asking more."""


def _outstanding(expected: dict[object, int], tally: Tally) -> int:
    return sum(
        1 for k, u in expected.items() if not tally.delivered.get(k) and u not in tally.failed
    )


@dataclass
class Tally:
    """What the server accepted and what the bot logged as failed, read incrementally."""

    delivered: Counter[object] = field(default_factory=Counter)
    """Answers the server accepted: per (chat, entry) for messages, per inline query id."""
    failed: set[int] = field(default_factory=set)
    """Update ids the bot's error handler gave up on."""
    calls_seen: int = 0
    log_read: int = 0

    def update(self, api: FakeBotApi, bot: BotProcess) -> None:
        calls = api.calls
        for call in calls[self.calls_seen :]:
            if call.status != 200:
                continue
            if call.method == "sendMessage":
                self.delivered[(call.params.get("chat_id"), entry_of(call))] += 1
            elif call.method == "answerInlineQuery":
                self.delivered[str(call.params.get("inline_query_id"))] += 1
        self.calls_seen = len(calls)
        with bot.log_path.open("rb") as log:
            log.seek(self.log_read)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.log_read += len(complete)
        self.failed.update(int(m) for m in FAILED.findall(complete.decode(errors="replace")))


async def _settle(
    api: FakeBotApi,
    bot: BotProcess,
    expected: dict[object, int],
    tally: Tally,
    rss: list[float],
    *,
    timeout: float,
) -> None:
    """Wait until every expected update is answered or logged as failed (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        assert bot.alive, f"the bot died:\n{bot.log[-3000:]}"
        tally.update(api, bot)
        rss.append(bot.rss_mb())
        if all(tally.delivered.get(k, 0) or u in tally.failed for k, u in expected.items()):
            return
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.25)


# -- knowledge swaps under load ------------------------------------------------------------------


def marker(kind: str, k: int) -> str:
    """A version mark the matcher cannot see: symbols only, so every version answers alike."""
    on, off = ("◆", "◇") if kind == "valid" else ("▲", "△")
    return "⟦" + "".join(on if k >> bit & 1 else off for bit in range(6)) + "⟧"


MARK = re.compile(r"⟦[◆◇▲△]{6}⟧")


def knowledge_version(mark: str, *, valid: bool) -> bytes:
    """The shipped knowledge with `mark` on every topic and on R1's answer and figure labels.

    Invalid versions also get a figure the quote does not cite: the loader must refuse them.
    """
    data = copy.deepcopy(SHIPPED)
    for entry in data["entries"]:
        entry["topic"]["en"] = f"{mark} {entry['topic']['en']}"
        if entry["id"] == "r1_pricing":
            entry["answer"]["en"] = f"{mark} {entry['answer']['en']}"
            for figure in entry["figures"]:
                figure["label"]["en"] = f"{mark} {figure['label']['en']}"
            if not valid:
                entry["figures"][0]["value"] = 999
    return json.dumps(data, ensure_ascii=False, indent=1).encode()


SHIPPED: Any = YAML(typ="safe").load(KNOWLEDGE.read_text(encoding="utf-8"))


def broken_version(k: int) -> bytes:
    """An unusable file, as editors and uploads make them; one in five is wrong only in its
    meaning (a figure its quote does not cite), the others cannot even be read."""
    whole = knowledge_version(marker("invalid", k), valid=k % 10 != 1)
    kind = k % 10
    if kind == 1:
        return whole
    if kind == 3:
        return whole[: len(whole) // 2]  # a half-written save
    if kind == 5:
        return whole.decode().encode("utf-16")  # another encoding
    if kind == 7:
        return b""  # emptied
    return whole.replace(b'"entries"', b'"entries" "entries"', 1)  # a syntax slip


def marks_in(texts: list[str]) -> set[str | None]:
    """The version marks of each text that should carry one (None: the shipped version)."""
    found: set[str | None] = set()
    for text in texts:
        marks = MARK.findall(text)
        found.update(marks or [None])
    return found


def write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".swap-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


async def test_knowledge_swaps_under_load_never_serve_a_half_loaded_base(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> None:
    swaps = 50
    count = scale(600, "RELOAD_QUESTIONS")
    versions = [
        (k, knowledge_version(marker("valid", k), valid=True) if k % 2 == 0 else broken_version(k))
        for k in range(swaps)
    ]
    valid_marks = {marker("valid", k) for k in range(0, swaps, 2)}
    last_valid = versions[swaps - 2 if (swaps - 1) % 2 else swaps - 1][1]
    question = "How much does DeepSeek-R1 cost?"
    with all_logs_at_debug() as logs:
        bot = await start_watched(api, tmp_path, engine, user_rate_limit=1000)
        watched_stop.append(bot)
        library = bot.services.library
        assert library is not None
        path: Path = library.path
        statuses: list[str] = []
        done = threading.Event()

        def swap_all() -> None:
            for _, data in versions:
                write_atomically(path, data)
                statuses.append(library.reload().status)
                time.sleep(0.01)
            done.set()

        swapping = asyncio.ensure_future(asyncio.to_thread(swap_all))
        started = time.monotonic()
        sent = 0
        users = [user(200_000 + i, f"R{i}", "en") for i in range(max(50, count // 10))]
        while sent < count:
            # Questions keep pace with the swaps, so that every swap happens under load.
            due = count if done.is_set() else count * (len(statuses) + 1) // swaps
            while sent < due:
                someone = users[sent % len(users)]
                # One in five a private question (rate-limited like Telegram), else inline.
                if sent % 5 == 0:
                    api.say(someone, question)
                else:
                    api.inline(someone, question)
                sent += 1
            await asyncio.sleep(0.02)
        await swapping
        swap_seconds = time.monotonic() - started
        private = sum(1 for n in range(count) if n % 5 == 0)
        await api.wait_for("sendMessage", count=private, timeout=60 + private / 10)
        await api.wait_for("answerInlineQuery", count=count - private, timeout=60 + count / 50)
        # The last word: the live version is the last valid file, though an invalid one is on disk.
        live = library.status()
        assert live.version == content_version(last_valid)
        assert path.read_bytes() == versions[-1][1]
        api.inline(users[0], question)
        final = (await api.wait_for("answerInlineQuery", count=count - private + 1))[-1]
        total_seconds = time.monotonic() - started
        await api.quiet(0.2)

    seen: Counter[str | None] = Counter()
    for call in api.calls_to("sendMessage") + api.calls_to("answerInlineQuery"):
        marks = marks_in(_marked_parts(call))
        assert len(marks) == 1, f"one answer mixes versions {marks}: {call.params}"
        (mark,) = marks
        assert mark is None or mark in valid_marks, f"answered from an invalid file: {mark}"
        seen[mark] += 1
    final_marks = marks_in(_marked_parts(final))
    assert final_marks == {marker("valid", swaps - 2 if (swaps - 1) % 2 else swaps - 1)}
    assert statuses.count("invalid") == swaps // 2
    assert set(statuses) <= {"reloaded", "unchanged", "invalid"}
    assert not bot.errors, bot.errors[:2]
    errors = [line for line in logs.lines if " ERROR " in line or " CRITICAL " in line]
    assert not errors, errors[:3]
    record(
        "reload_under_load",
        swaps=swaps,
        valid_swaps=swaps - swaps // 2,
        invalid_swaps=swaps // 2,
        questions=count + 1,
        versions_seen_in_answers=len(seen),
        mixed_answers=0,
        answers_from_invalid_files=0,
        errors=0,
        swap_seconds=round(swap_seconds, 1),
        seconds=round(total_seconds, 1),
        questions_logged=_question_rows(tmp_path / "data" / "questions.db"),
    )


def _marked_parts(call: Call) -> list[str]:
    """The parts of an answer that carry the version mark: they must all agree."""
    if call.method == "sendMessage":
        text = call.text
        body = text.split("\n", 1)[0]
        labels = [line for line in text.splitlines() if line.startswith("• ")]
        buttons = [str(b.get("text", "")) for row in call.buttons for b in row][2:]
        return [body, *labels, *buttons]
    parts = []
    for result in call.params.get("results", []):
        parts.append(str(result.get("title", "")))
        if result.get("id") == "en:r1_pricing":  # its body and figure labels are marked too
            text = str(result.get("input_message_content", {}).get("message_text", ""))
            parts.append(text.split("\n", 1)[0])
            parts += [line for line in text.splitlines() if line.startswith("• ")]
    return parts


# -- SIGTERM in a burst --------------------------------------------------------------------------


async def test_sigterm_in_a_burst_finishes_what_was_fetched_and_flushes_the_log(
    api: FakeBotApi, tmp_path: Path, engine: Engine, processes: list[BotProcess]
) -> None:
    burst = 100
    questions = answered_questions(engine)
    bot = await start_process(api, tmp_path)
    processes.append(bot)
    # Every answer takes a while: many updates are in flight when the signal comes.
    api.fail("sendMessage", 200, delay=0.2, times=10**6)
    users = [user(300_000 + i, f"T{i}", "en") for i in range(burst)]
    entries = sorted(questions)
    ids = {
        api.say(someone, questions[entries[n % len(entries)]]): someone["id"]
        for n, someone in enumerate(users)
    }
    await api.wait_for("sendMessage", count=20, timeout=30)
    in_flight = len(ids) - len(api.calls_to("sendMessage"))
    exit_code = await bot.terminate(timeout=60)
    log = bot.log

    fetched = {u["update_id"] for c in api.calls_to("getUpdates") for u in c.result or []}
    answers = Counter(c.params["chat_id"] for c in api.calls_to("sendMessage"))
    pending = {u["update_id"] for u in api.queued}
    rows = _question_rows(bot.data_dir / "questions.db")
    record(
        "sigterm",
        burst=burst,
        in_flight_at_signal=in_flight,
        fetched=len(fetched),
        answered=sum(answers.values()),
        left_for_next_start=len(pending),
        logged_questions=rows,
        exit_code=exit_code,
    )
    assert exit_code == 0, log[-3000:]
    assert "Bot stopped" in log and "Traceback" not in log
    # Everything the bot took from Telegram was answered, once; the rest is still there.
    assert {ids[u] for u in fetched} == set(answers), "a fetched update was dropped"
    assert all(n == 1 for n in answers.values())
    assert fetched | {u for u in ids if u in pending} == set(ids)
    # The question log has every answered question: nothing was left in a buffer.
    assert rows == sum(answers.values())


def _question_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM questions").fetchone()[0])


# -- the database going away ---------------------------------------------------------------------


@pytest.fixture
async def pg_url(pg_server: PgServer | NoServer) -> AsyncIterator[tuple[PgServer, str]]:
    server = _need(pg_server)
    if not server.owned:
        pytest.skip("TEST_DATABASE_URL is a server these tests may not stop")
    async with pg_database(server) as url:
        yield server, url


async def test_answers_go_on_while_the_database_is_down_and_recording_resumes(
    api: FakeBotApi,
    tmp_path: Path,
    engine: Engine,
    watched_stop: list[Watched],
    pg_url: tuple[PgServer, str],
) -> None:
    server, url = pg_url
    bot = await start_watched(api, tmp_path, engine, database_url=url, user_rate_limit=1000)
    watched_stop.append(bot)
    questions = answered_questions(engine)
    entries = sorted(questions)
    phase_users: dict[str, list[dict[str, Any]]] = {}

    async def ask(phase: str, n: int) -> list[Call]:
        people = [
            user(400_000 + len(phase_users) * 1000 + i, f"{phase}{i}", "en") for i in range(n)
        ]
        phase_users[phase] = people
        before = len(api.calls_to("sendMessage"))
        for i, someone in enumerate(people):
            api.say(someone, questions[entries[i % len(entries)]])
        calls = await api.wait_for("sendMessage", count=before + n, timeout=30)
        return calls[before:]

    async def recorded(phase: str) -> int:
        hashes = [bot.services.questions.user_hash(int(u["id"])) for u in phase_users[phase]]
        listed = ", ".join(f"'{h}'" for h in hashes)
        rows = await raw(url, f"SELECT count(*) AS n FROM questions WHERE user_hash IN ({listed})")
        return int(rows[0]["n"])

    before = await ask("before", 10)
    assert await recorded("before") == 10
    await asyncio.to_thread(server.stop, "fast")
    try:
        started = time.monotonic()
        during = await ask("during", 10)
        answer_time = time.monotonic() - started
    finally:
        await asyncio.to_thread(server.start)
    assert all(entry_of(c) is not None for c in before + during)  # real answers, every one
    # Recording resumes once the server is back: within a few questions, then every one.
    deadline = time.monotonic() + 20
    probes = 0
    while True:
        probes += 1
        await ask(f"probe{probes}", 1)
        if await recorded(f"probe{probes}") == 1 or time.monotonic() > deadline:
            break
    after = await ask("after", 10)
    assert await recorded("during") == 0
    assert await recorded("after") == 10
    assert all(entry_of(c) is not None for c in after)
    assert not bot.errors
    record(
        "database_outage",
        answered_before=len(before),
        answered_while_down=len(during),
        recorded_while_down=0,
        seconds_to_answer_while_down=round(answer_time, 2),
        probes_until_recording=probes,
        recorded_after=10,
    )
