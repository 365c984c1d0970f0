"""Faults from the server, floods from users, long answers, concurrency and knowledge swaps."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.answers import Engine, EngineRef
from bot.telegram_render import MAX_MESSAGE
from tests.telegram.conftest import KNOWLEDGE, AppThread, BotRunner
from tests.telegram.fake_bot_api import FakeBotApi, html_problem, user, utf16_len

ERIN = user(4001, "Erin", "en")
FRANK = user(4002, "Frank", "fr")
QUESTION = "How much does DeepSeek-R1 cost?"


def edited_knowledge(tmp_path: Path, name: str, edit: Any) -> Path:
    """A copy of the shipped knowledge file with `edit(data)` applied.

    Written as JSON, which is YAML too: no dependence on how a YAML dumper quotes things.
    """
    data = YAML(typ="safe").load(KNOWLEDGE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def entry(data: Any, entry_id: str) -> Any:
    return next(e for e in data["entries"] if e["id"] == entry_id)


async def test_a_429_with_retry_after_is_honoured_and_the_message_arrives(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.fail("sendMessage", 429, retry_after=1)
    api.say(ERIN, QUESTION)
    (sent,) = await api.wait_for("sendMessage", timeout=8)
    attempts = api.calls_to("sendMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0
    assert "<b>$2.2 per million tokens</b>" in sent.text


async def test_a_user_who_blocked_the_bot_does_not_stop_it(
    bot: AppThread, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram_handlers")
    api.fail("sendMessage", 403, match=lambda p: p.get("chat_id") == FRANK["id"], times=5)
    api.say(FRANK, "Combien a coûté l'entraînement de GPT-4 ?")
    await api.wait_for("sendMessage", ok_only=False, match=lambda c: c.status == 403)
    api.say(ERIN, QUESTION)
    (sent,) = await api.wait_for("sendMessage")
    assert sent.params["chat_id"] == ERIN["id"]
    assert bot.alive
    skipped = [r for r in caplog.records if "cannot write there" in r.getMessage()]
    assert skipped and skipped[0].levelno == logging.INFO
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_server_error_is_retried_and_the_answer_arrives_once(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.fail("sendMessage", 500)
    api.say(ERIN, QUESTION)
    (sent,) = await api.wait_for("sendMessage", timeout=8)
    await api.quiet(0.5)
    assert [c.status for c in api.calls_to("sendMessage", ok_only=False)] == [500, 200]
    assert "<b>$2.2 per million tokens</b>" in sent.text


async def test_server_errors_are_logged_and_the_bot_goes_on(
    bot: AppThread, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail("sendMessage", 500, times=3)  # the first try and both retries
    api.fail("sendMessage", 400, "Bad Request: can't parse entities")
    api.say(ERIN, QUESTION)
    await api.wait_for("sendMessage", ok_only=False, count=3, timeout=8)
    api.say(ERIN, QUESTION)
    await api.wait_for("sendMessage", ok_only=False, count=4)
    api.say(ERIN, QUESTION)
    await api.wait_for("sendMessage")
    # A 400 is never sent again: the same request would be refused the same way.
    assert [c.status for c in api.calls_to("sendMessage", ok_only=False)] == [500] * 3 + [400, 200]
    messages = [r.getMessage() for r in caplog.records]
    assert any("network error" in m for m in messages)  # the 500s, past the retries
    assert any(m.startswith("Update") and m.endswith("failed") for m in messages)  # the 400
    assert bot.alive


async def test_the_per_user_question_limit_sends_one_polite_notice(
    runner: BotRunner, api: FakeBotApi
) -> None:
    await runner.start(user_rate_limit=2)
    for _ in range(5):
        api.say(ERIN, QUESTION)
    await api.wait_for("sendMessage", count=3)
    await api.quiet(0.3)
    sent = api.sent_to(int(ERIN["id"]))
    assert len(sent) == 3
    notices = [c for c in sent if "a lot of questions" in c.text]
    assert len(notices) == 1 and "2 questions a minute" in notices[0].text
    api.say(FRANK, "Combien a coûté l'entraînement de GPT-4 ?")  # others are not affected
    await api.wait_for("sendMessage", match=lambda c: c.params["chat_id"] == FRANK["id"])


async def test_updates_are_processed_concurrently(bot: AppThread, api: FakeBotApi) -> None:
    # Erin's reply is stuck for a second; Frank's must not wait behind it.
    api.fail("sendMessage", 200, delay=1.0, match=lambda p: p.get("chat_id") == ERIN["id"])
    api.say(ERIN, QUESTION)
    api.say(FRANK, "Combien a coûté l'entraînement de GPT-4 ?")
    first, second = await api.wait_for("sendMessage", count=2, timeout=5)
    assert first.params["chat_id"] == FRANK["id"]
    assert second.params["chat_id"] == ERIN["id"]


async def test_many_users_at_once_each_get_exactly_one_answer(
    bot: AppThread, api: FakeBotApi
) -> None:
    users = [user(5000 + i, f"U{i}", "en") for i in range(60)]
    for someone in users:
        api.say(someone, QUESTION)
    calls = await api.wait_for("sendMessage", count=len(users), timeout=15)
    await api.quiet(0.1)
    assert sorted(c.params["chat_id"] for c in api.calls_to("sendMessage")) == sorted(
        u["id"] for u in users
    )
    assert all("$2.2 per million tokens" in c.text for c in calls)


async def test_the_knowledge_can_be_swapped_while_questions_are_answered(
    runner: BotRunner, api: FakeBotApi, engine: Engine, tmp_path: Path
) -> None:
    marker = "VERSION-TWO"

    def mark(data: Any) -> None:
        training = entry(data, "training_cost")
        training["answer"]["en"] = f"{marker} " + str(training["answer"]["en"])

    v2 = Engine.from_path(edited_knowledge(tmp_path, "v2.yaml", mark))
    ref = EngineRef(engine)
    await runner.start(engine=ref)
    before = [user(6000 + i, f"B{i}", "en") for i in range(20)]
    after = [user(6100 + i, f"A{i}", "en") for i in range(20)]
    for someone in before:
        api.say(someone, "How much did GPT-4 cost to train?")
    await api.wait_for("sendMessage", count=5)
    ref.swap(v2)  # while the rest of the first batch is being answered
    for someone in after:
        api.say(someone, "How much did GPT-4 cost to train?")
    calls = await api.wait_for("sendMessage", count=40, timeout=15)
    by_chat = {c.params["chat_id"]: c.text for c in calls}
    assert all(marker in by_chat[u["id"]] for u in after)
    # Every answer comes from one whole version: the old text or the new one, never a mix.
    assert all("OpenAI" in text and "<blockquote>" in text for text in by_chat.values())


async def test_an_answer_over_4096_characters_is_split_at_line_boundaries(
    runner: BotRunner, api: FakeBotApi, tmp_path: Path
) -> None:
    paragraphs = [
        f"Paragraph {i:02d}: " + "DeepSeek reportedly spent far less on training. " * 4
        for i in range(40)
    ]

    def lengthen(data: Any) -> None:
        entry(data, "r1_pricing")["answer"]["en"] = "\n".join(paragraphs)

    path = edited_knowledge(tmp_path, "long.yaml", lengthen)
    await runner.start(engine="load", knowledge_path=path)
    api.say(ERIN, QUESTION)
    first = await api.wait_for("sendMessage")
    await api.quiet(0.2)
    parts = api.sent_to(int(ERIN["id"]))
    assert len(parts) >= 2 and first[0] is parts[0]
    for part in parts:
        assert utf16_len(part.text) <= MAX_MESSAGE
        assert html_problem(part.text) is None
    lines = {line.strip() for p in parts for line in p.text.splitlines()}
    for paragraph in paragraphs:
        assert paragraph.strip() in lines  # lines are never cut in two
    assert [bool(p.buttons) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert "<b>$2.2 per million tokens</b>" in parts[-1].text


async def test_a_clean_stop_is_fast_and_returns_zero(bot: AppThread, api: FakeBotApi) -> None:
    api.say(ERIN, QUESTION)
    await api.wait_for("sendMessage")
    started = time.monotonic()
    assert await bot.stop() == 0
    assert time.monotonic() - started < 2.0
    assert api.calls_to("getUpdates")[-1].params["timeout"] == 0
