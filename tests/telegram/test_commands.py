"""Every command, the command menus, and /lang surviving a restart."""

from __future__ import annotations

from bot.answers import Engine
from tests.telegram.conftest import AppThread, BotRunner
from tests.telegram.fake_bot_api import FakeBotApi, buttons_text, user

ALICE = user(2001, "Alice", "fr")
BOB = user(2002, "Bob", "en")
HANS = user(2003, "Hans", "de")
COMMANDS = ["start", "help", "topics", "figures", "source", "lang", "ask"]


async def test_command_menus_are_registered_per_language(bot: AppThread, api: FakeBotApi) -> None:
    calls = api.calls_to("setMyCommands")
    assert [c.params.get("language_code") for c in calls] == [None, "fr", "en"]
    for call in calls:
        assert [c["command"] for c in call.params["commands"]] == COMMANDS
    assert api.commands[("default", "fr")][2]["description"] == "Les sujets que je connais"
    assert api.commands[("default", "en")][2]["description"] == "The topics I know about"
    assert api.commands[("default", "")] == api.commands[("default", "en")]


async def test_a_server_refusing_setmycommands_does_not_stop_the_bot(
    runner: BotRunner, api: FakeBotApi
) -> None:
    api.fail("setMyCommands", 400, "Bad Request: method not supported here", times=3)
    await runner.start()
    assert [c.status for c in api.calls_to("setMyCommands", ok_only=False)] == [400] * 3
    api.say(BOB, "/start")
    await api.wait_for("sendMessage")


async def test_start_welcomes_in_the_telegram_language(bot: AppThread, api: FakeBotApi) -> None:
    api.say(ALICE, "/start")
    (fr,) = await api.wait_for("sendMessage")
    assert fr.text.startswith("Bonjour Alice !")
    api.say(BOB, "/start")
    en = (await api.wait_for("sendMessage", count=2))[1]
    assert en.text.startswith("Hello Bob!")
    api.say(HANS, "/start")  # neither French nor English: English
    de = (await api.wait_for("sendMessage", count=3))[2]
    assert de.text.startswith("Hello Hans!")


async def test_help_explains_how_to_ask(bot: AppThread, api: FakeBotApi) -> None:
    api.say(ALICE, "/help")
    (call,) = await api.wait_for("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert "@deepseek_kb_test_bot" in call.text
    assert "/ask" in call.text and "/lang" in call.text
    assert "Combien a coûté l'entraînement de GPT-4 ?" in call.text


async def test_topics_lists_every_entry_as_a_button(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    api.say(BOB, "/topics")
    (topics,) = await api.wait_for("sendMessage")
    expected = engine.topics("en").suggestions
    assert buttons_text(topics) == [s.topic for s in expected]
    assert topics.callback_data == [f"a:en:{s.entry}" for s in expected]
    api.press(BOB, topics.message, f"a:en:{expected[0].entry}")
    answer = (await api.wait_for("sendMessage", count=2))[1]
    assert answer.actions[0] == f"fb:+:en:{expected[0].entry}"  # a new message


async def test_figures_lists_every_key_figure_in_bold(
    bot: AppThread, api: FakeBotApi, engine: Engine
) -> None:
    api.say(ALICE, "/figures")
    (call,) = await api.wait_for("sendMessage")
    overview = engine.figures_overview("fr")
    assert overview.figures
    for figure in overview.figures:
        assert f"<b>{figure.display}</b>" in call.text
    assert "<b>64,1 milliards de dollars</b>" in call.text


async def test_source_says_what_the_article_is_and_whom_it_cites(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.say(BOB, "/source")
    (call,) = await api.wait_for("sendMessage")
    assert "Why DeepSeek's rise is worrying the United States" in call.text
    assert "Yuyuan Tantian" in call.text and "China Academy of Industrial Internet" in call.text


async def test_unknown_command_points_to_help(bot: AppThread, api: FakeBotApi) -> None:
    api.say(BOB, "/frobnicate")
    (call,) = await api.wait_for("sendMessage")
    assert "/help" in call.text


async def test_lang_preference_outlives_a_restart(runner: BotRunner, api: FakeBotApi) -> None:
    first = await runner.start()
    api.say(ALICE, "/lang en")
    (ack,) = await api.wait_for("sendMessage")
    assert ack.text.startswith("Got it")
    assert await first.stop() == 0

    await runner.start()
    api.say(ALICE, "/topics")
    topics = (await api.wait_for("sendMessage", count=2))[1]
    assert all(d.startswith("a:en:") for d in topics.callback_data)
    # A question that is clearly French is still answered in French.
    api.say(ALICE, "Combien a coûté l'entraînement de GPT-4 ?")
    answer = (await api.wait_for("sendMessage", count=3))[2]
    assert answer.actions[0] == "fb:+:fr:training_cost"
    api.say(ALICE, "/lang fr")
    back = (await api.wait_for("sendMessage", count=4))[3]
    assert back.text.startswith("C'est noté")


async def test_lang_without_a_valid_argument_explains_itself(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.say(ALICE, "/lang klingon")
    (call,) = await api.wait_for("sendMessage")
    assert call.text.startswith("Utilisation : /lang fr ou /lang en")
    api.say(BOB, "/lang")
    usage = (await api.wait_for("sendMessage", count=2))[1]
    assert usage.text.startswith("Usage: /lang en or /lang fr")


async def test_ask_works_in_private_too_and_empty_ask_prompts(
    bot: AppThread, api: FakeBotApi
) -> None:
    api.say(BOB, "/ask How much did GPT-4 cost to train?")
    (answer,) = await api.wait_for("sendMessage")
    assert answer.actions[0] == "fb:+:en:training_cost"
    api.say(BOB, "/ask")
    prompt = (await api.wait_for("sendMessage", count=2))[1]
    assert prompt.callback_data == []
    assert "?" in prompt.text


async def test_edited_messages_are_not_answered_again(bot: AppThread, api: FakeBotApi) -> None:
    # The fake delivers everything, so this checks the handlers' own guard.
    update = api.message_update(BOB, "How much does DeepSeek-R1 cost?")
    api.inject({"edited_message": {**update["message"], "edit_date": 1}})
    api.say(BOB, "/start")
    (call,) = await api.wait_for("sendMessage")
    await api.quiet(0.2)
    assert len(api.calls_to("sendMessage")) == 1
    assert call.text.startswith("Hello")
    # And Telegram would not even send edits: the bot asks only for what it handles.
    polls = api.calls_to("getUpdates")
    assert polls[0].params["allowed_updates"] == ["message", "callback_query", "inline_query"]
