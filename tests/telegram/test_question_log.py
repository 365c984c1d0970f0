"""The question log in chat: every question recorded (private, group, inline), the asker's
👍/👎 stored, /misses with "add as a variant" end to end, /stats, the purge, and a
database that is down never costing an answer."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import matching
from bot.answers import Engine
from bot.knowledge import parse_knowledge
from bot.storage import QuestionLog
from tests.telegram.conftest import BotRunner, start_moderated
from tests.telegram.fake_bot_api import FakeBotApi, group_chat, user
from tests.telegram.moderation_kit import EVE, MOD, SHIPPED, Moderated

GROUP = group_chat(-100888, "Log tests")
ANSWERED = "How much does DeepSeek-R1 cost?"
IN_GROUP = "/ask What did Trump say?"


def miss(engine: Engine) -> str:
    """A question the bot declines, though it names the closest entry (what /misses shows)."""
    for question in ("who founded deepseek?", "how old is the boss of deepseek?"):
        reply = engine.ask(question)
        if not reply.answered and reply.closest is not None and reply.kind != "chitchat":
            return question
    raise AssertionError("no declined question with a closest entry any more")


def rows(database: Path) -> list[dict[str, Any]]:
    """Every recorded question, read straight from the SQLite file."""
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM questions ORDER BY id")]


async def rows_when(database: Path, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The rows, once there are `count` of them (recording is asynchronous for inline)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(rows, database)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_every_question_is_recorded_and_only_the_askers_vote_counts(
    moderated: Moderated, api: FakeBotApi, shipped_engine: Engine, tmp_path: Path
) -> None:
    database = tmp_path / "data" / "questions.db"
    declined = miss(shipped_engine)
    api.say(EVE, ANSWERED)
    answer = await moderated.said(EVE, "$2.2 per million tokens")
    api.say(EVE, IN_GROUP, chat=GROUP)
    await api.wait_for("sendMessage", match=lambda c: c.params["chat_id"] == GROUP["id"])
    api.inline(EVE, "prix r1")
    await api.wait_for("answerInlineQuery")
    api.say(EVE, declined)
    await moderated.said(EVE, "rather not make anything up")
    recorded = await rows_when(database, 4)
    assert sorted((r["chat_type"], r["kind"], r["answered"]) for r in recorded) == [
        ("inline", "answer", 1),
        ("private", "answer", 1),
        ("private", "fallback", 0),
        ("supergroup", "answer", 1),
    ]
    by_question = {r["question"]: r for r in recorded}
    first = by_question[ANSWERED]
    assert first["entry"] == "r1_pricing" and first["lang"] == "en" and first["score"] == 100
    assert first["normalized"] == matching.normalize(ANSWERED)
    assert by_question["What did Trump say?"]["entry"] == "trump_wake_up_call"
    assert by_question["prix r1"]["lang"] == "fr"
    missed = by_question[declined]
    assert missed["entry"] == shipped_engine.ask(declined).closest  # closest, though declined
    # User ids are never stored raw.
    assert {r["user_hash"] for r in recorded} != {None}
    assert all(str(EVE["id"]) not in str(r.values()) for r in recorded)

    # The vote buttons carry the row; the asker's 👎 is stored, a replay by someone else not.
    down = answer.callback_data[1]
    assert down == f"fb:-:en:r1_pricing:{first['id']}"
    mallory = user(9177, "Mallory", "en")
    api.say(mallory, "What did Trump say?")
    own = await moderated.said(mallory, "Trump")
    api.press(mallory, own.message, down)
    api.press(EVE, answer.message, down)
    await api.wait_for("answerCallbackQuery", count=2)
    await api.quiet(0.2)
    votes = {r["id"]: r["vote"] for r in await asyncio.to_thread(rows, database)}
    assert votes[first["id"]] == -1
    assert [v for v in votes.values() if v is not None] == [-1]


async def test_misses_and_add_as_a_variant_end_to_end(
    moderated: Moderated, api: FakeBotApi, shipped_engine: Engine
) -> None:
    declined = miss(shipped_engine)
    closest = shipped_engine.ask(declined).closest
    assert closest is not None
    topic = shipped_engine.kb.entry(closest).topic.en  # type: ignore[union-attr]
    for n, wording in enumerate([declined, declined, declined.capitalize()], 1):
        api.say(EVE, wording)
        await api.wait_for("sendMessage", count=n, match=lambda c: c.params["chat_id"] == EVE["id"])
    api.say(MOD, "/misses")
    misses = await moderated.said(MOD, "Missed questions")
    assert f"«{declined}» ×3" in misses.text
    assert f"closest: {topic} (<code>{closest}</code>" in misses.text
    (button,) = [b for row in misses.buttons for b in row]
    assert button["text"].startswith(f"➕ 1. add as a variant of {topic}"[:40])
    assert len(button["callback_data"].encode()) <= 64

    api.press(MOD, misses.message, button["callback_data"])
    proposal = await moderated.said(MOD, "Proposed update")
    assert f"variant of {closest}" in proposal.text and f"Changed: {closest}" in proposal.text
    assert moderated.knowledge.read_bytes() == SHIPPED  # nothing before the Confirm
    api.press(MOD, proposal.message, proposal.callback_data[0])
    await moderated.said(MOD, "applied")
    written = moderated.knowledge.read_bytes()
    assert f'"{declined}"'.encode() in written
    # The moderators' comments and layout survive the edit.
    comments = [line for line in SHIPPED.splitlines() if line.strip().startswith(b"#")]
    assert comments and all(line in written.splitlines() for line in comments)
    entry = parse_knowledge(written).entry(closest)
    assert entry is not None and declined in entry.questions.en
    assert moderated.library.engine.current.kb.entry(closest) == entry
    assert [v.path.read_bytes() for v in moderated.library.history()] == [SHIPPED]
    # Pressed again: it is a variant already, nothing changes.
    api.press(MOD, misses.message, button["callback_data"])
    told = await moderated.said(MOD, "already has the variant")
    assert "Nothing was changed." in told.text
    assert moderated.knowledge.read_bytes() == written


async def test_stats_show_questions_per_day_answer_rate_most_asked_and_worst_rated(
    moderated: Moderated, api: FakeBotApi, shipped_engine: Engine
) -> None:
    for n, question in enumerate([ANSWERED, ANSWERED, miss(shipped_engine), "merci !"], 1):
        api.say(EVE, question)
        await api.wait_for("sendMessage", count=n, match=lambda c: c.params["chat_id"] == EVE["id"])
    first = next(c for c in moderated.to(EVE) if c.callback_data)
    api.press(EVE, first.message, first.callback_data[1])  # 👎
    await api.wait_for("answerCallbackQuery")
    await api.quiet(0.1)
    api.say(MOD, "/stats")
    stats = await moderated.said(MOD, "Questions, last 7 day(s)")
    assert "Asked: 3 (plus 1 small talk or empty), answered: 2 (67%)" in stats.text
    assert "Feedback: 👍 0 · 👎 1" in stats.text
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert f"{today}: 4, 2" in stats.text
    topic = shipped_engine.kb.entry("r1_pricing").topic.en  # type: ignore[union-attr]
    assert f"Most asked:\n• {topic} (<code>r1_pricing</code>) ×2" in stats.text
    assert f"Worst rated:\n• {topic} (<code>r1_pricing</code>) 👎 1 👍 0" in stats.text
    api.say(MOD, "/stats forever")
    await moderated.said(MOD, "Usage: /stats [days]")


async def test_a_database_that_is_down_never_costs_an_answer(
    runner: BotRunner, api: FakeBotApi, tmp_path: Path, shipped_engine: Engine
) -> None:
    moderated = await start_moderated(
        runner,
        api,
        tmp_path / "kb",
        shipped_engine,
        database_url="postgresql+asyncpg://bot:secret@127.0.0.1:9/nowhere",
    )
    api.say(EVE, ANSWERED)
    answer = await moderated.said(EVE, "$2.2 per million tokens")
    assert answer.callback_data[:2] == ["fb:+:en:r1_pricing", "fb:-:en:r1_pricing"]  # no row
    api.press(EVE, answer.message, answer.callback_data[0])
    assert (await api.wait_for("answerCallbackQuery"))[0].params["text"].startswith("Thanks")
    api.say(MOD, "/misses")
    told = await moderated.said(MOD, "unavailable")
    assert "secret" not in told.text  # the URL's password is never shown
    api.say(MOD, "/stats")
    await moderated.said(MOD, "unavailable", count=2)


async def test_a_malformed_database_url_disables_the_log_not_the_bot(
    runner: BotRunner, api: FakeBotApi, tmp_path: Path, shipped_engine: Engine
) -> None:
    moderated = await start_moderated(
        runner, api, tmp_path / "kb", shipped_engine, database_url="mysql://nope"
    )
    api.say(EVE, ANSWERED)
    await moderated.said(EVE, "$2.2 per million tokens")
    api.say(MOD, "/stats")
    await moderated.said(MOD, "question log is not available")


async def test_old_questions_are_purged_at_start(
    runner: BotRunner, api: FakeBotApi, tmp_path: Path, shipped_engine: Engine
) -> None:
    database = tmp_path / "data" / "questions.db"
    log = await QuestionLog.open(f"sqlite+aiosqlite:///{database}", b"k" * 32)
    now = datetime.now(UTC)
    for age in (200, 100, 1):
        await log.record(
            at=now - timedelta(days=age),
            chat_type="private",
            lang="en",
            question=f"asked {age} days ago",
            normalized="asked",
            entry=None,
            score=0.0,
            answered=False,
            user_id=1,
            kind="fallback",
        )
    await log.close()
    await start_moderated(runner, api, tmp_path / "kb", shipped_engine, retention_days=90)
    deadline = time.monotonic() + 5
    while len(kept := await asyncio.to_thread(rows, database)) > 1:
        assert time.monotonic() < deadline, kept
        await asyncio.sleep(0.05)
    assert [r["question"] for r in kept] == ["asked 1 days ago"]
