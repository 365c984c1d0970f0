"""Authorization and secrets: what an outsider can send, and what the bot must never reveal.

The real bot runs against the fake Bot API server (and, for webhook mode, PTB's own webhook
server) on 127.0.0.1. Every log record of every logger is captured at DEBUG.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.answers import Engine
from tests.results import record
from tests.telegram.conftest import KNOWLEDGE, TEST_TOKEN
from tests.telegram.fake_bot_api import Call, FakeBotApi, group_chat, html_problem, user
from tests.telegram.harness import (
    Watched,
    all_logs_at_debug,
    everything_at_debug,
    free_port,
    start_watched,
    watched_stop,
)

__all__ = ["watched_stop"]  # a fixture, used by name

TOKEN_SECRET = TEST_TOKEN.split(":", 1)[1]
WEBHOOK_SECRET = "Webhook_Secret-For-Security-Tests_42"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
MALLORY = user(6660, "Mallory", "en")
KNOWLEDGE_BYTES = KNOWLEDGE.read_bytes()
GROUP = group_chat(-100666, "Security group")


# -- secrets -----------------------------------------------------------------------------------


async def test_token_and_webhook_secret_never_leak_through_a_run_full_of_errors(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    alice = user(6001, "Alice", "en")
    blocked = user(6002, "Blocked", "en")
    with all_logs_at_debug() as logs:
        api.fail("setMyCommands", 500, times=1)  # a start-up call failing
        bot = await start_watched(
            api,
            tmp_path,
            engine,
            webhook_url="https://bot.example.test/tg/hook",
            webhook_port=port,
            webhook_secret=SecretStr(WEBHOOK_SECRET),
            log_level="DEBUG",
        )
        watched_stop.append(bot)
        everything_at_debug()
        api.fail("sendMessage", 500, match=lambda p: p.get("chat_id") == alice["id"])
        api.fail("sendMessage", 429, retry_after=1, match=_to(alice))
        api.fail("sendMessage", 400, "Bad Request: can't parse entities", match=_to(alice), times=1)
        api.fail("sendMessage", 403, match=_to(blocked), times=5)
        api.fail("answerCallbackQuery", 400, "Bad Request: query is too old")
        question = api.prepare(api.message_update(alice, "How much does DeepSeek-R1 cost?"))
        async with httpx.AsyncClient() as client:
            sent = []
            for update in [
                question,  # 500: a network error, logged
                api.prepare(api.message_update(alice, "What did Trump say?")),  # 429 then ok
                api.prepare(api.message_update(alice, "What did Axios report?")),  # 400: a bug
                api.prepare(api.message_update(blocked, "How much did GPT-4 cost?")),  # 403
                api.prepare(
                    {
                        "callback_query": {
                            "id": "CQ-old",
                            "from": alice,
                            "chat_instance": "x",
                            "data": "a:en:r1_pricing",
                        }
                    }
                ),
            ]:
                sent.append(await client.post(url, json=update, headers={HEADER: WEBHOOK_SECRET}))
            # Garbage with the right secret, and the wrong secret with a real update.
            garbage = await client.post(
                url,
                content=b'{"update_id": "x", "message": 5}',
                headers={HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"},
            )
            forged = await client.post(url, json=question, headers={HEADER: "guess"})
        assert [r.status_code for r in sent] == [200] * len(sent)
        assert garbage.status_code == 400 and forged.status_code == 403
        # 500, 429 then its retry, 400 for Alice; 403 for the user who blocked the bot.
        await api.wait_for("sendMessage", match=_sent_to(alice), timeout=10)
        await api.wait_for("sendMessage", count=5, ok_only=False, timeout=10)
        await api.quiet(0.3)
        assert await bot.thread.stop() == 0

    # setWebhook is where the secret is meant to go (to Telegram); nowhere else.
    texts = [repr(c.params) for c in api.calls if c.method != "setWebhook"]
    assert api.calls_to("setWebhook")[0].params["secret_token"] == WEBHOOK_SECRET
    assert logs.lines and any("Traceback" in line for line in logs.lines)
    assert any("[REDACTED]" in line for line in logs.lines)  # the masking really happened
    assert bot.errors, "no handler error was raised: nothing was checked"
    for haystack, what in [
        (logs.text, "logs"),
        ("\n".join(bot.errors), "exception messages and tracebacks"),
        ("\n".join(texts), "requests to Telegram (messages sent to users)"),
    ]:
        assert TOKEN_SECRET not in haystack, f"the token leaked into {what}"
        assert WEBHOOK_SECRET not in haystack, f"the webhook secret leaked into {what}"
    record(
        "secrets",
        log_records_scanned=len(logs.lines) // 2,
        handler_errors_scanned=len(bot.errors),
        bot_requests_scanned=len(api.calls),
        leaks=0,
    )


def _to(someone: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A fault filter: requests addressed to `someone`."""
    return lambda params: params.get("chat_id") == someone["id"]


def _sent_to(someone: dict[str, Any]) -> Callable[[Call], bool]:
    """A call filter: messages sent to `someone`."""
    return lambda call: call.params.get("chat_id") == someone["id"]


# -- the webhook door --------------------------------------------------------------------------


async def webhook_bot(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> int:
    """The bot in webhook mode on a free local port (returned), stopped after the test."""
    port = free_port()
    bot = await start_watched(
        api,
        tmp_path,
        engine,
        webhook_url="https://bot.example.test/tg/hook",
        webhook_port=port,
        webhook_secret=SecretStr(WEBHOOK_SECRET),
    )
    watched_stop.append(bot)
    return port


async def test_webhook_requests_without_the_right_secret_are_refused_and_never_processed(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> None:
    port = await webhook_bot(api, tmp_path, engine, watched_stop)
    url = f"http://127.0.0.1:{port}/tg/hook"
    wrong_headers: list[dict[str, str]] = [
        {},
        {HEADER: ""},
        {HEADER: "wrong"},
        {HEADER: WEBHOOK_SECRET.lower()},
        {HEADER: WEBHOOK_SECRET[:-1]},
        {HEADER: WEBHOOK_SECRET + "x"},
        {HEADER: WEBHOOK_SECRET * 2},
        {HEADER: TEST_TOKEN},
        {"X-Telegram-Bot-Api-Secret": WEBHOOK_SECRET},
    ]
    async with httpx.AsyncClient() as client:
        refused = []
        for n, headers in enumerate(wrong_headers):
            update = api.prepare(api.message_update(user(6100 + n), "How much does R1 cost?"))
            refused.append((await client.post(url, json=update, headers=headers)).status_code)
        # The right secret but not JSON: PTB refuses it too.
        update = api.prepare(api.message_update(user(6199), "How much does R1 cost?"))
        as_form = await client.post(
            url,
            content=str(update).encode(),
            headers={HEADER: WEBHOOK_SECRET, "Content-Type": "text/plain"},
        )
        # A marker that is accepted, to know the refused ones had their chance to be processed.
        marker = api.prepare(api.message_update(MALLORY, "How much does DeepSeek-R1 cost?"))
        ok = await client.post(url, json=marker, headers={HEADER: WEBHOOK_SECRET})
    assert refused == [403] * len(wrong_headers)
    assert as_form.status_code == 403 and ok.status_code == 200
    await api.wait_for("sendMessage", match=_sent_to(MALLORY))
    await api.quiet(0.3)
    assert [c.params["chat_id"] for c in api.calls_to("sendMessage", ok_only=False)] == [
        MALLORY["id"]
    ]
    record("webhook_forged", requests_refused=len(wrong_headers) + 1, processed=0)


async def test_oversized_webhook_bodies_are_refused_before_they_are_read(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> None:
    port = await webhook_bot(api, tmp_path, engine, watched_stop)
    # An outsider announces 50 MB and sends only the headers: a server that meant to buffer
    # the body would wait for it; a capped one answers at once and hangs up.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /tg/hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 52428800\r\n\r\n"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status_line.split()[1] in (b"400", b"413"), status_line
    # A 2 MB update, even with the right secret, is refused and never processed; a normal
    # one right after is answered.
    big = api.prepare(api.message_update(MALLORY, "How much does R1 cost? " + "x" * 2_000_000))
    small = api.prepare(api.message_update(MALLORY, "How much does DeepSeek-R1 cost?"))
    async with httpx.AsyncClient() as client:
        with _status_of() as status:
            status.append(
                (
                    await client.post(url_of(port), json=big, headers={HEADER: WEBHOOK_SECRET})
                ).status_code
            )
        ok = await client.post(url_of(port), json=small, headers={HEADER: WEBHOOK_SECRET})
    assert status in ([400], [413], ["closed"]), status
    assert ok.status_code == 200
    (sent,) = await api.wait_for("sendMessage")
    assert "$2.2" in sent.text
    await api.quiet(0.2)
    assert len(api.calls_to("sendMessage", ok_only=False)) == 1
    record("webhook_oversized", bodies_refused=2, largest_announced_bytes=52_428_800)


def url_of(port: int) -> str:
    return f"http://127.0.0.1:{port}/tg/hook"


@contextmanager
def _status_of() -> Iterator[list[Any]]:
    """Collects a status code, or "closed" when the server hung up mid-upload."""
    status: list[Any] = []
    try:
        yield status
    except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
        status.append("closed")


# -- hostile text ------------------------------------------------------------------------------

HOSTILE = (
    '<b>bold</b> </blockquote> <a href="javascript:alert(1)">x</a> <script>alert(1)</script> '
    "&amp; &lt; & *bold* _it_ __u__ ~s~ `code` ```pre``` [link](http://x) ||spoiler|| \\ "
)


async def test_a_question_full_of_markup_is_treated_as_text(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> None:
    bot = await start_watched(api, tmp_path, engine)
    watched_stop.append(bot)
    evil = user(6201, HOSTILE, "en")
    sent: list[Call] = []
    for text, chat in [
        ("/start", None),  # echoes the first name
        ("<b>How much does DeepSeek-R1 cost?</b> *_`~||", None),
        (HOSTILE, None),
        (f"@deepseek_kb_test_bot {HOSTILE}", GROUP),
    ]:
        api.say(evil, text, chat=chat)
        sent.append((await api.wait_for("sendMessage", count=len(sent) + 1))[-1])
    api.inline(evil, HOSTILE)
    await api.wait_for("answerInlineQuery")
    await api.quiet(0.2)
    assert len(api.calls_to("sendMessage", ok_only=False)) == 4  # none refused by the server
    welcome, answer, fallback, in_group = sent
    # The first name comes back as text: exactly the characters the user typed.
    assert welcome.params["parse_mode"] == "HTML"
    shown = html.unescape(re.sub(r"<[^<>]*>", "", welcome.text))
    assert HOSTILE.strip() in shown
    # Markup around a real question is just text: the question is answered...
    assert "<b>$2.2 per million tokens</b>" in answer.text
    assert in_group.params["chat_id"] == GROUP["id"]
    # ...and nothing the user typed ever becomes a tag in what the bot sends.
    for call in sent:
        assert html_problem(call.text) is None
        assert set(re.findall(r"</?([a-z-]+)", call.text)) <= {"b", "i", "blockquote"}
        assert "<script>" not in call.text and "<a " not in call.text
    assert fallback.params["parse_mode"] == "HTML"
    assert not bot.errors
    record("hostile_text", messages=len(sent), inline_queries=1, markup_interpreted=0)


# -- moderator powers ----------------------------------------------------------------------------

MOD = user(9001, "Moderator", "en")
MOD2 = user(9002, "Other Moderator", "en")
NOT_AVAILABLE = "This command is not available."
COMMANDS = [
    "/kb",
    "/reload",
    "/history",
    "/rollback",
    "/rollback 1",
    "/lint",
    "/misses",
    "/misses 30",
    "/stats 7",
]


@dataclass
class Guarded:
    """A bot with two moderators, and what an outsider must never be able to change."""

    bot: Watched
    knowledge: Path

    @property
    def folder(self) -> Path:
        return self.knowledge.parent

    def snapshot(self) -> tuple[bytes, list[str], str]:
        """The knowledge file, every file beside it (history included), the live version."""
        files = sorted(str(p.relative_to(self.folder)) for p in self.folder.rglob("*"))
        return self.knowledge.read_bytes(), files, self.live_version()

    def live_version(self) -> str:
        app = self.bot.thread.app
        assert app is not None
        return str(app.bot_data["services"].engine.current.version)


@pytest.fixture
async def guarded(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> Guarded:
    bot = await start_watched(
        api,
        tmp_path,
        engine,
        moderator_ids=frozenset({MOD["id"], MOD2["id"]}),
        user_rate_limit=1000,  # every refusal gets its reply, so each one can be checked
    )
    watched_stop.append(bot)
    return Guarded(bot, tmp_path / "data" / "knowledge" / "deepseek.yaml")


def message(
    api: FakeBotApi, sender: dict[str, Any], text: str, chat: dict[str, Any] | None = None
) -> dict[str, Any]:
    return dict(api.message_update(sender, text, chat=chat)["message"])


def forwarded(api: FakeBotApi, sender: dict[str, Any], text: str, origin: dict[str, Any]) -> Any:
    """`sender` forwards `origin`'s message `text` to the bot."""
    msg = message(api, sender, text)
    msg["forward_origin"] = {"type": "user", "date": msg["date"] - 60, "sender_user": origin}
    return {"message": msg}


def edited(api: FakeBotApi, sender: dict[str, Any], text: str, chat: Any = None) -> Any:
    """`sender` edits an earlier message into `text`."""
    msg = message(api, sender, text, chat)
    msg["edit_date"] = msg["date"] + 5
    return {"edited_message": msg}


def document(
    api: FakeBotApi,
    sender: dict[str, Any],
    content: bytes,
    name: str,
    chat: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`sender` sends a file named `name` as a document."""
    file_id = api.add_file(content, f"documents/file_{len(api.files)}.yaml")
    msg = message(api, sender, "", chat)
    del msg["text"]
    msg["document"] = {
        "file_id": file_id,
        "file_unique_id": f"U{file_id}",
        "file_name": name,
        "mime_type": "application/x-yaml",
        "file_size": len(content),
    }
    return {"message": msg}


def marked_knowledge(marker: str) -> bytes:
    """The shipped file with `marker` in one answer: valid, and easy to spot when live."""
    data = KNOWLEDGE_BYTES.decode()
    old = "DeepSeek-R1, récemment lancé par DeepSeek"
    assert old in data
    return data.replace(old, f"{marker} {old}", 1).encode()


async def replies_to(api: FakeBotApi, chat_id: int, count: int) -> list[Call]:
    calls = await api.wait_for(
        "sendMessage", count=count, match=lambda c: c.params.get("chat_id") == chat_id
    )
    return calls


async def test_moderator_commands_from_anyone_else_are_refused_and_change_nothing(
    api: FakeBotApi, guarded: Guarded
) -> None:
    before = guarded.snapshot()
    attempts: list[dict[str, Any]] = []
    groups = []
    for n, text in enumerate(COMMANDS):
        # One group per command: Telegram (and the rate limiter) allow 20 messages a minute
        # in a group, and the test should not wait for that.
        group = group_chat(-100700 - n, f"Group {n}")
        groups.append(group["id"])
        addressed = text.replace(" ", "@deepseek_kb_test_bot ", 1) if " " in text else text
        addressed += "" if " " in text else "@deepseek_kb_test_bot"
        attempts.append(api.message_update(MALLORY, text))  # private chat
        attempts.append(api.message_update(MALLORY, text, chat=group))
        attempts.append(api.message_update(MALLORY, addressed, chat=group))
        attempts.append(forwarded(api, MALLORY, text, origin=MOD))
        attempts.append(edited(api, MALLORY, text))
        # A moderator's own command, in the wrong place or form, is not run either.
        attempts.append(api.message_update(MOD, text, chat=group))
        attempts.append(forwarded(api, MOD, text, origin=MOD2))
        attempts.append(edited(api, MOD, text))
    for update in attempts:
        api.inject(update)
    await api.wait_for("sendMessage", count=len(attempts), timeout=20)
    await api.quiet(0.3)
    sent = api.calls_to("sendMessage", ok_only=False)
    assert len(sent) == len(attempts)  # one reply each, and only that
    assert {c.text for c in sent} == {NOT_AVAILABLE}  # nothing about the file, not a word more
    assert {c.params["chat_id"] for c in sent} == {MALLORY["id"], MOD["id"], *groups}
    assert guarded.snapshot() == before
    assert not guarded.bot.errors
    record("moderator_commands_refused", attempts=len(attempts), refused=len(sent), changed=0)


async def test_uploads_from_anyone_else_are_never_downloaded(
    api: FakeBotApi, guarded: Guarded
) -> None:
    before = guarded.snapshot()
    new = marked_knowledge("OUTSIDER-UPLOAD")
    api.inject(document(api, MALLORY, new, "deepseek.yaml"))
    api.inject(document(api, MALLORY, new, "deepseek.yaml", chat=GROUP))
    forwarded_doc = document(api, MALLORY, new, "deepseek.yaml")
    forwarded_doc["message"]["forward_origin"] = {"type": "user", "date": 1, "sender_user": MOD}
    api.inject(forwarded_doc)
    api.inject({"edited_message": document(api, MOD, new, "deepseek.yaml")["message"]})
    refusals = await api.wait_for("sendMessage", count=3)
    # A marker to know the group document (ignored silently) had its chance.
    api.say(MALLORY, "/start")
    await api.wait_for("sendMessage", count=4)
    await api.quiet(0.3)
    assert [c.text for c in refusals] == [NOT_AVAILABLE] * 3
    assert api.calls_to("getFile", ok_only=False) == []  # not even fetched
    assert guarded.snapshot() == before
    record("outsider_uploads", uploads=4, downloaded=0, changed=0)


async def test_moderator_buttons_pressed_by_anyone_else_are_refused(
    api: FakeBotApi, guarded: Guarded
) -> None:
    # A real proposal, waiting for its moderator's Confirm.
    api.inject(document(api, MOD, marked_knowledge("MOD-UPLOAD"), "deepseek.yaml"))
    (proposal,) = await replies_to(api, int(MOD["id"]), 1)
    confirm, cancel = proposal.callback_data
    assert confirm.startswith("m:ok:") and cancel.startswith("m:no:")
    before = guarded.snapshot()
    # Mallory has a bot message of her own to press buttons on (and a group one).
    api.say(MALLORY, "How much does DeepSeek-R1 cost?")
    (own,) = await replies_to(api, int(MALLORY["id"]), 1)
    api.say(MALLORY, "@deepseek_kb_test_bot How much does DeepSeek-R1 cost?", chat=GROUP)
    (in_group,) = await replies_to(api, int(GROUP["id"]), 1)
    forged = [confirm, cancel, "m:ok:AAAAAAAA", "m:var:AAAAAAAA", "m:", "m:ok:", "m:ok:x:y"]
    queries = []
    for data in forged:
        queries.append(api.press(MALLORY, own.message, data))
        queries.append(api.press(MALLORY, in_group.message, data))
        # The moderator's own message, as a forged client could claim.
        queries.append(api.press(MALLORY, proposal.message, data))
    answers = await api.wait_for("answerCallbackQuery", count=len(queries), timeout=10)
    await api.quiet(0.3)
    assert {a.params.get("text") for a in answers} == {NOT_AVAILABLE}
    assert guarded.snapshot() == before
    # The real Confirm still works for its moderator: the refusals consumed nothing.
    api.press(MOD, proposal.message, confirm)
    applied = await replies_to(api, int(MOD["id"]), 2)
    assert "applied" in applied[-1].text
    assert b"MOD-UPLOAD" in guarded.knowledge.read_bytes()
    assert guarded.live_version() != before[2]
    record("moderator_buttons_refused", presses=len(queries), refused=len(answers), changed=0)


async def test_a_confirm_forged_by_another_moderator_or_replayed_applies_at_most_once(
    api: FakeBotApi, guarded: Guarded
) -> None:
    api.inject(document(api, MOD, marked_knowledge("FIRST"), "deepseek.yaml"))
    (proposal,) = await replies_to(api, int(MOD["id"]), 1)
    confirm, cancel = proposal.callback_data
    before = guarded.snapshot()
    # Another moderator (in their own chat, with their own message) presses MOD's Confirm.
    api.say(MOD2, "How much does DeepSeek-R1 cost?")
    (other,) = await replies_to(api, int(MOD2["id"]), 1)
    api.press(MOD2, other.message, confirm)
    api.press(MOD2, other.message, cancel)
    refused = await api.wait_for("answerCallbackQuery", count=2)
    assert all("Only the moderator who proposed" in str(a.params.get("text")) for a in refused)
    assert guarded.snapshot() == before
    # The real Confirm, pressed three times at once (a double tap and a replay).
    for _ in range(3):
        api.press(MOD, proposal.message, confirm)
    await api.wait_for("answerCallbackQuery", count=5)
    await api.quiet(0.5)
    history = list((guarded.folder / ".history").glob("*.yaml"))
    assert len(history) == len([p for p in before[1] if p.startswith(".history/")]) + 1
    applied = [c for c in api.sent_to(int(MOD["id"])) if "applied" in c.text]
    assert len(applied) == 1
    texts = [str(a.params.get("text")) for a in api.calls_to("answerCallbackQuery")[2:]]
    assert sorted(texts).count("Applied.") == 1
    # Cancel after the fact, and a Confirm replayed later: gone, nothing changes.
    after = guarded.snapshot()
    api.press(MOD, proposal.message, cancel)
    api.press(MOD, proposal.message, confirm)
    await api.wait_for("answerCallbackQuery", count=7)
    await api.quiet(0.2)
    assert guarded.snapshot() == after
    record("confirm_replays", presses=7, applied=1)


async def test_uploaded_file_names_are_never_used_as_paths(
    api: FakeBotApi, guarded: Guarded, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    names = [
        "../../escape-1.yaml",
        "../escape-2.yaml",
        f"{outside}/escape-3.yaml",
        "/etc/escape-4.yaml",
        ".history/escape-5.yaml",
        "..\\..\\escape-6.yaml",
        "<b>escape</b>&-7.yaml",
        "escape-8.txt\x00.yaml",
    ]
    bases = [Path.cwd(), guarded.folder, guarded.folder / ".history", tmp_path, outside]
    for n, name in enumerate(names):
        api.inject(document(api, MOD, marked_knowledge(f"NAMED-{n}"), name))
        (proposal,) = (await replies_to(api, int(MOD["id"]), 2 * n + 1))[-1:]
        assert html_problem(proposal.text) is None
        shown = html.unescape(re.sub(r"<[^<>]*>", "", proposal.text))
        assert name in shown, shown  # shown as the user named it, as text
        assert proposal.callback_data, proposal.text
        api.press(MOD, proposal.message, proposal.callback_data[0])
        (applied,) = (await replies_to(api, int(MOD["id"]), 2 * n + 2))[-1:]
        assert "applied" in applied.text, applied.text
        assert f"NAMED-{n}".encode() in guarded.knowledge.read_bytes()
    leaked = [
        str(base / f"escape-{k}.yaml")
        for base in bases
        for k in range(1, 9)
        if (base / f"escape-{k}.yaml").exists()
    ]
    leaked += [str(p) for p in tmp_path.rglob("*escape*")]
    assert leaked == []
    assert not Path("/etc/escape-4.yaml").exists()
    history = sorted(p.name for p in (guarded.folder / ".history").iterdir())
    assert len(history) == len(names)
    assert all(re.fullmatch(r"\d{8}T\d{12}-[0-9a-f]{12}\.yaml", h) for h in history), history
    record("upload_names", hostile_names=len(names), used_as_path=0)


async def test_a_vote_forged_for_someone_elses_question_changes_nothing(
    api: FakeBotApi, guarded: Guarded, tmp_path: Path
) -> None:
    alice = user(6301, "Alice", "en")
    api.say(alice, "How much does DeepSeek-R1 cost?")
    (answer,) = await replies_to(api, int(alice["id"]), 1)
    down = next(d for d in answer.callback_data if d.startswith("fb:-:"))
    assert down.count(":") == 4, "the vote buttons carry the question log row"
    row = int(down.rsplit(":", 1)[1])
    # Mallory replays Alice's button data, and guesses the rows around it, on her own message.
    api.say(MALLORY, "What did Trump say?")
    (own,) = await replies_to(api, int(MALLORY["id"]), 1)
    for guess in (row, row - 1, row + 1, 0, 1):
        api.press(MALLORY, own.message, f"fb:-:en:r1_pricing:{guess}")
    await api.wait_for("answerCallbackQuery", count=5)
    await api.quiet(0.3)
    votes = await _votes(tmp_path / "data" / "questions.db")
    assert votes.get(row) is None, f"Mallory's forged 👎 landed on Alice's question: {votes}"
    # Alice's own vote still counts.
    api.press(alice, answer.message, down)
    await api.wait_for("answerCallbackQuery", count=6)
    await api.quiet(0.3)
    assert (await _votes(tmp_path / "data" / "questions.db")).get(row) == -1
    record("vote_forgery", forged_votes=5, counted=0)


async def _votes(path: Path) -> dict[int, int | None]:
    import sqlite3

    def read() -> dict[int, int | None]:
        with sqlite3.connect(path) as db:
            return {int(i): v for i, v in db.execute("SELECT id, vote FROM questions")}

    return await asyncio.to_thread(read)


async def test_a_vote_counts_on_another_instance_sharing_the_log(
    api: FakeBotApi, tmp_path: Path, engine: Engine, watched_stop: list[Watched]
) -> None:
    # Two instances behind a load balancer (webhook mode), one question log (issue 4).
    shared_log = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    ports = [free_port(), free_port()]
    for n, port in enumerate(ports):
        bot = await start_watched(
            api,
            tmp_path / f"instance{n}",
            engine,
            webhook_url=f"https://bot.example.test/hook{n}",
            webhook_port=port,
            webhook_secret=SecretStr(WEBHOOK_SECRET),
            database_url=shared_log,
            user_hash_secret=SecretStr("one secret for every instance"),
        )
        watched_stop.append(bot)
    alice = user(6401, "Alice", "en")
    async with httpx.AsyncClient() as client:
        question = api.prepare(api.message_update(alice, "How much does DeepSeek-R1 cost?"))
        hook = [f"http://127.0.0.1:{port}/hook{n}" for n, port in enumerate(ports)]
        await client.post(hook[0], json=question, headers={HEADER: WEBHOOK_SECRET})
        (answer,) = await replies_to(api, int(alice["id"]), 1)
        down = next(d for d in answer.callback_data if d.startswith("fb:-:"))
        row = int(down.rsplit(":", 1)[1])
        press = api.prepare(
            {
                "callback_query": {
                    "id": "CQ-lb",
                    "from": alice,
                    "chat_instance": "x",
                    "message": answer.message,
                    "data": down,
                }
            }
        )
        await client.post(hook[1], json=press, headers={HEADER: WEBHOOK_SECRET})
    await api.wait_for("answerCallbackQuery")
    await api.quiet(0.3)
    assert (await _votes(tmp_path / "shared.db")).get(row) == -1
