"""Groups (answer only when addressed) and inline mode."""

from __future__ import annotations

from typing import Any

from bot.answers import Engine
from tests.telegram.conftest import AppThread, find_question
from tests.telegram.fake_bot_api import FakeBotApi, group_chat, html_problem, user

CAROL = user(3001, "Carol", "fr")
DAVE = user(3002, "Dave", "en")
GROUP = group_chat(-100777, "AI watchers", "supergroup")
OLD_GROUP = group_chat(-4242, "Old style group", "group")
QUESTION = "Combien a coûté l'entraînement de GPT-4 ?"


def to_group(api: FakeBotApi) -> list[Any]:
    return api.sent_to(int(GROUP["id"]))


async def test_a_group_message_that_mentions_the_bot_is_answered_as_a_reply(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.say(CAROL, f"@deepseek_kb_test_bot {QUESTION}", chat=GROUP)
    (call,) = await api.wait_for("sendMessage")
    assert call.params["chat_id"] == GROUP["id"]
    assert call.params["reply_parameters"]["message_id"] == 1
    assert call.actions[0] == "fb:+:fr:training_cost"


async def test_a_group_message_that_does_not_address_the_bot_is_ignored(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.say(CAROL, QUESTION, chat=GROUP)
    api.say(CAROL, f"@someone_else {QUESTION}", chat=GROUP)
    api.say(DAVE, "How much does DeepSeek-R1 cost?", chat=OLD_GROUP)
    # A marker that *is* addressed, to know the three before it were processed.
    api.say(DAVE, "/ask@deepseek_kb_test_bot How much does DeepSeek-R1 cost?", chat=GROUP)
    (call,) = await api.wait_for("sendMessage")
    await api.quiet(0.2)
    assert len(api.calls_to("sendMessage")) == 1
    assert call.params["reply_parameters"]["message_id"] == 3


async def test_a_reply_to_the_bot_is_answered(bot: AppThread, api: FakeBotApi) -> None:
    api.say(DAVE, "/ask What did Trump say?", chat=GROUP)
    (first,) = await api.wait_for("sendMessage")
    api.say(DAVE, "What did Axios report?", chat=GROUP, reply_to=first.message)
    second = (await api.wait_for("sendMessage", count=2))[1]
    assert second.actions[0] == "fb:+:en:house_ban"
    # A reply to someone else is not for the bot.
    someone = api.message_update(CAROL, "hello", chat=GROUP)["message"]
    api.say(DAVE, "What does R1 cost?", chat=GROUP, reply_to=someone)
    await api.quiet(0.2)
    assert len(api.calls_to("sendMessage")) == 2


async def test_ask_in_a_group(bot: AppThread, api: FakeBotApi) -> None:
    api.say(DAVE, "/ask How much does DeepSeek-R1 cost?", chat=OLD_GROUP)
    (call,) = await api.wait_for("sendMessage")
    assert call.params["chat_id"] == OLD_GROUP["id"]
    assert "<b>$2.2 per million tokens</b>" in call.text
    api.say(DAVE, "/ask@other_bot How much does DeepSeek-R1 cost?", chat=OLD_GROUP)
    await api.quiet(0.2)
    assert len(api.calls_to("sendMessage")) == 1


async def test_buttons_in_a_group_answer_in_the_group(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    question = find_question(engine, "suggest", ["le coût", "cout", "openai", "chine"])
    api.say(CAROL, f"@deepseek_kb_test_bot {question}", chat=GROUP)
    (first,) = await api.wait_for("sendMessage")
    api.press(DAVE, first.message, first.callback_data[0])  # anyone in the group may press
    await api.wait_for("answerCallbackQuery")
    (edit,) = await api.wait_for("editMessageText")
    assert edit.params["chat_id"] == GROUP["id"]
    assert edit.params["message_id"] == first.message["message_id"]
    # A related entry's answer comes as a new message, replying in the thread.
    related = next(d for d in edit.callback_data if d.startswith("a:"))
    api.press(DAVE, edit.message, related)
    second = (await api.wait_for("sendMessage", count=2))[1]
    assert second.params["chat_id"] == GROUP["id"]
    assert second.params["reply_parameters"]["message_id"] == first.message["message_id"]


async def test_empty_inline_query_lists_the_topics(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    query_id = api.inline(DAVE, "")
    (call,) = await api.wait_for("answerInlineQuery")
    assert call.params["inline_query_id"] == query_id
    results = call.params["results"]
    topics = engine.topics("en").suggestions
    assert [r["title"] for r in results] == [s.topic for s in topics]
    assert all(r["type"] == "article" for r in results)
    assert all(r["input_message_content"]["parse_mode"] == "HTML" for r in results)
    assert call.params["is_personal"] is True


async def test_inline_query_returns_up_to_five_answers(bot: AppThread, api: FakeBotApi) -> None:
    api.inline(CAROL, "prix de DeepSeek-R1")
    (call,) = await api.wait_for("answerInlineQuery")
    results = call.params["results"]
    assert 1 <= len(results) <= 5
    first = results[0]
    assert first["id"] == "fr:r1_pricing"
    assert "\n" not in first["description"] and len(first["description"]) <= 120
    text = first["input_message_content"]["message_text"]
    assert "<b>2,2 $ par million de jetons</b>" in text
    assert html_problem(text) is None
    assert "reply_markup" not in first
    assert len({r["id"] for r in results}) == len(results)


async def test_inline_query_with_nothing_relevant_returns_nothing(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.inline(DAVE, "recommend me a good movie")
    (call,) = await api.wait_for("answerInlineQuery")
    assert call.params["results"] == []
    assert call.params["button"]["start_parameter"] == "inline"
