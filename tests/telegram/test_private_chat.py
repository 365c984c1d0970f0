"""Private chats: questions in French and English, buttons, feedback, escaping."""

from __future__ import annotations

import logging

import pytest

from bot.answers import Engine
from tests.telegram.conftest import AppThread, find_question
from tests.telegram.fake_bot_api import Call, FakeBotApi, buttons_text, user

ALICE = user(1001, "Alice", "fr")
BOB = user(1002, "Bob", "en")


async def test_french_question_gets_an_html_answer_with_figures_and_source(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    question = "Combien a coûté l'entraînement de GPT-4 ?"
    expected = engine.ask(question)
    assert expected.entry == "training_cost" and expected.lang == "fr"
    api.say(ALICE, question)
    (call,) = await api.wait_for("sendMessage")
    assert call.params["chat_id"] == ALICE["id"]
    assert call.params["parse_mode"] == "HTML"
    assert "<b>78 millions de dollars</b>" in call.text
    assert "<b>moins de 6 millions de dollars</b>" in call.text
    assert "Chiffres cités :" in call.text
    assert "Source :" in call.text
    assert "<blockquote>" in call.text and "78 millions de dollars" in call.text
    assert "reply_parameters" not in call.params  # no quoting in a private chat
    data = call.actions
    assert data[:2] == ["fb:+:fr:training_cost", "fb:-:fr:training_cost"]
    assert buttons_text(call)[:2] == ["👍", "👎"]
    related = [f"a:fr:{s.entry}" for s in expected.related]
    assert data[2:] == related and related


async def test_english_question_gets_an_english_answer(bot: AppThread, api: FakeBotApi) -> None:
    api.say(BOB, "How much does DeepSeek-R1 cost per million tokens?")
    (call,) = await api.wait_for("sendMessage")
    assert "<b>$2.2 per million tokens</b>" in call.text
    assert "<b>$60 per million tokens</b>" in call.text
    assert "Cited figures:" in call.text and "Source:" in call.text
    assert "<i>Computed from the cited figures" in call.text
    assert call.actions[0] == "fb:+:en:r1_pricing"


async def test_question_language_wins_over_telegram_language(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.say(ALICE, "What did Donald Trump say about DeepSeek?")  # Alice's Telegram is French
    (call,) = await api.wait_for("sendMessage")
    assert "Source:" in call.text
    assert call.actions[0] == "fb:+:en:trump_wake_up_call"


async def test_did_you_mean_button_answers_in_place(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    question = find_question(engine, "suggest", ["le coût", "cout", "openai", "chine"])
    expected = engine.ask(question)
    api.say(ALICE, question)
    (suggest,) = await api.wait_for("sendMessage")
    assert suggest.callback_data == [f"e:fr:{s.entry}" for s in expected.suggestions]
    assert buttons_text(suggest) == [s.question for s in expected.suggestions]
    choice = expected.suggestions[0]

    query_id = api.press(ALICE, suggest.message, f"e:fr:{choice.entry}")
    (edit,) = await api.wait_for("editMessageText")
    assert edit.params["message_id"] == suggest.message["message_id"]
    assert edit.params["parse_mode"] == "HTML"
    assert edit.actions[0] == f"fb:+:fr:{choice.entry}"
    assert "<blockquote>" in edit.text
    (answered,) = await api.wait_for("answerCallbackQuery")
    assert answered.params["callback_query_id"] == query_id
    assert len(api.calls_to("sendMessage")) == 1  # edited, not re-sent


async def test_nothing_close_gets_a_fallback_with_topic_buttons(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    question = find_question(engine, "fallback", ["recommande-moi un bon film", "argent"])
    api.say(ALICE, question)
    (fallback,) = await api.wait_for("sendMessage")
    assert len(fallback.callback_data) == engine.entry_count
    assert all(d.startswith("e:fr:") for d in fallback.callback_data)
    assert buttons_text(fallback)[0] == engine.topics("fr").suggestions[0].topic
    assert "<b>" not in fallback.text and "<blockquote>" not in fallback.text

    api.press(ALICE, fallback.message, fallback.callback_data[0])
    (edit,) = await api.wait_for("editMessageText")
    assert edit.params["message_id"] == fallback.message["message_id"]


async def test_related_button_answers_in_a_new_message(bot: AppThread, api: FakeBotApi) -> None:
    api.say(BOB, "How much did GPT-4 cost to train?")
    (answer,) = await api.wait_for("sendMessage")
    related = [d for d in answer.callback_data if d.startswith("a:")]
    assert related
    api.press(BOB, answer.message, related[0])
    second = (await api.wait_for("sendMessage", count=2))[1]
    entry = related[0].split(":")[2]
    assert second.actions[0] == f"fb:+:en:{entry}"
    assert api.calls_to("editMessageText") == []
    await api.wait_for("answerCallbackQuery")


async def test_feedback_is_acknowledged_logged_and_its_buttons_removed(
    bot: AppThread, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram_handlers")
    api.say(ALICE, "Combien a coûté l'entraînement de GPT-4 ?")
    (answer,) = await api.wait_for("sendMessage")
    api.press(ALICE, answer.message, "fb:-:fr:training_cost")
    (ack,) = await api.wait_for("answerCallbackQuery")
    assert ack.params["text"] == "Merci pour votre avis !"
    (edit,) = await api.wait_for("editMessageReplyMarkup")
    remaining = [
        b["callback_data"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert remaining == answer.callback_data[2:]  # related entries stay, votes go
    assert any("Feedback - on entry training_cost" in r.getMessage() for r in caplog.records)
    assert not any(str(ALICE["id"]) in r.getMessage() for r in caplog.records)


async def test_unknown_or_forged_button_is_answered_as_expired(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.say(BOB, "What did Donald Trump say about DeepSeek?")
    (answer,) = await api.wait_for("sendMessage")
    for forged in ("zz:1", "a:de:training_cost", "a:en:../../etc", "fb:?:en:x"):
        api.press(BOB, answer.message, forged)
    acks = await api.wait_for("answerCallbackQuery", count=4)
    assert all(
        a.params["text"] == "This button has expired. Please ask your question again." for a in acks
    )
    await api.quiet(0.1)
    assert len(api.calls_to("sendMessage")) == 1


async def test_a_removed_entry_falls_back_to_the_topics(bot: AppThread, api: FakeBotApi) -> None:
    api.say(BOB, "What did Donald Trump say about DeepSeek?")
    (answer,) = await api.wait_for("sendMessage")
    api.press(BOB, answer.message, "a:en:no_such_entry")
    second = (await api.wait_for("sendMessage", count=2))[1]
    assert "I couldn't find that" in second.text


async def test_user_supplied_text_is_escaped(bot: AppThread, api: FakeBotApi) -> None:
    mallory = user(1003, "<b>Mal & Co</b>", "en")
    api.say(mallory, "/start")
    (call,) = await api.wait_for("sendMessage")
    assert "Hello &lt;b&gt;Mal &amp; Co&lt;/b&gt;!" in call.text
    api.say(mallory, "<script>alert(1)</script> & <b>prix</b>")
    calls = await api.wait_for("sendMessage", count=2)
    assert "<script>" not in calls[1].text


def _only_ok(calls: list[Call]) -> bool:
    return all(c.status == 200 for c in calls)


async def test_every_request_the_bot_made_was_accepted(bot: AppThread, api: FakeBotApi) -> None:
    api.say(ALICE, "Combien a coûté l'entraînement de GPT-4 ?")
    api.say(BOB, "How much does DeepSeek-R1 cost?")
    await api.wait_for("sendMessage", count=2)
    assert _only_ok(api.calls)


async def test_a_message_too_old_to_edit_gets_the_answer_in_a_new_one(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    question = find_question(engine, "suggest", ["le coût", "cout", "openai", "chine"])
    api.say(ALICE, question)
    (suggest,) = await api.wait_for("sendMessage")
    api.fail("editMessageText", 400, "Bad Request: message can't be edited")
    api.press(ALICE, suggest.message, suggest.callback_data[0])
    answer = (await api.wait_for("sendMessage", count=2))[1]
    assert answer.callback_data[0].startswith("fb:+:fr:")


async def test_a_double_tap_answers_once_and_logs_no_error(
    bot: AppThread, api: FakeBotApi, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    question = find_question(engine, "suggest", ["le coût", "cout", "openai", "chine"])
    api.say(ALICE, question)
    (suggest,) = await api.wait_for("sendMessage")
    api.press(ALICE, suggest.message, suggest.callback_data[0])
    api.press(ALICE, suggest.message, suggest.callback_data[0])
    await api.wait_for("answerCallbackQuery", count=2)
    await api.wait_for("editMessageText")
    await api.quiet(0.2)
    edits = api.calls_to("editMessageText", ok_only=False)
    assert [c.status for c in edits] == [200, 400]  # Telegram: "message is not modified"
    assert len(api.calls_to("sendMessage")) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
