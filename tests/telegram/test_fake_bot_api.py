"""The fake Bot API server itself: a plain PTB Application talks to it like to Telegram."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from telegram import Bot, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.telegram.conftest import TEST_TOKEN, AnyApp, AppThread
from tests.telegram.fake_bot_api import FakeBotApi, html_problem, text_entities, user


def _echo_app(api: FakeBotApi, on_ready: Callable[[AnyApp], None]) -> None:
    """The smallest real bot: echo every text message, with run_polling as in production."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def post_init(app: AnyApp) -> None:
        on_ready(app)

    app = (
        Application.builder()
        .token(TEST_TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .post_init(post_init)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(stop_signals=None, close_loop=True)


async def test_plain_application_receives_an_injected_update(api: FakeBotApi) -> None:
    bot = AppThread(lambda on_ready: _echo_app(api, on_ready))
    await bot.start()
    alice = user(1001)
    api.say(alice, "bonjour")
    (call,) = await api.wait_for("sendMessage")
    assert call.params["chat_id"] == 1001
    assert call.text == "echo: bonjour"
    assert call.message["message_id"] == 2  # Alice's message was 1 in this chat
    started = time.monotonic()
    await bot.stop()
    # The long poll in flight is cancelled, not waited out.
    assert time.monotonic() - started < 2.0
    assert [c.method for c in api.calls[:2]] == ["getMe", "deleteWebhook"]
    polls = api.calls_to("getUpdates")
    assert polls[-1].params["timeout"] == 0  # the confirming call made on stop
    assert polls[-1].params["offset"] == 2  # ...which acknowledges update 1


async def test_long_poll_waits_for_an_update_and_honours_offset(api: FakeBotApi) -> None:
    url = f"{api.base_url}{TEST_TOKEN}/getUpdates"
    async with httpx.AsyncClient() as client:
        started = time.monotonic()
        empty = (await client.post(url, data={"timeout": "0.3"})).json()
        assert empty == {"ok": True, "result": []}
        assert time.monotonic() - started >= 0.25

        first = api.say(user(1), "one")
        api.say(user(1), "two")
        got = (await client.post(url, data={"timeout": "5"})).json()["result"]
        assert [u["update_id"] for u in got] == [first, first + 1]
        # Not confirmed yet: still there. An offset past the first confirms it.
        got = (await client.post(url, data={"offset": str(first + 1)})).json()["result"]
        assert [u["update_id"] for u in got] == [first + 1]
        got = (await client.post(url, data={"offset": str(first + 2)})).json()["result"]
        assert got == []


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}123:wrong/getMe")
    assert response.status_code == 401
    assert response.json()["ok"] is False


async def test_faults_are_answered_in_the_api_shape(api: FakeBotApi) -> None:
    api.fail("getMe", 429, retry_after=3)
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{api.base_url}{TEST_TOKEN}/getMe")
        again = await client.post(f"{api.base_url}{TEST_TOKEN}/getMe")
    assert response.status_code == 429
    assert response.json()["parameters"] == {"retry_after": 3}
    assert again.json()["result"]["is_bot"] is True
    assert [c.status for c in api.calls] == [429, 200]


async def test_file_download(api: FakeBotApi) -> None:
    file_id = api.add_file(b"hello: world\n", "documents/kb.yaml")
    async with httpx.AsyncClient() as client:
        info = (
            await client.post(f"{api.base_url}{TEST_TOKEN}/getFile", data={"file_id": file_id})
        ).json()["result"]
        body = await client.get(f"{api.base_file_url}{TEST_TOKEN}/{info['file_path']}")
    assert body.content == b"hello: world\n"


async def test_ptb_downloads_a_file_through_base_file_url(api: FakeBotApi) -> None:
    file_id = api.add_file("clé: « valeur »\n".encode(), "documents/kb.yaml")
    async with Bot(TEST_TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        tg_file = await bot.get_file(file_id)
        assert tg_file.file_size == len("clé: « valeur »\n".encode())
        data = await tg_file.download_as_bytearray()
    assert bytes(data).decode() == "clé: « valeur »\n"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("<b>78</b> millions &amp; plus", True),
        ("<blockquote>« citation »</blockquote>", True),
        ("a < b", False),
        ("<b>unclosed", False),
        ("<script>x</script>", False),
        ("AT&T", False),
        ("x" * 4096, True),
        ("x" * 4097, False),
        ("😀" * 2049, False),  # 4098 UTF-16 code units
    ],
)
def test_html_validation_matches_telegram(text: str, ok: bool) -> None:
    assert (html_problem(text) is None) is ok


def test_entities_are_utf16_offsets() -> None:
    entities: list[dict[str, Any]] = text_entities("😀 @some_bot hi")
    assert entities == [{"type": "mention", "offset": 3, "length": 9}]
    assert text_entities("/ask@some_bot prix")[0] == {
        "type": "bot_command",
        "offset": 0,
        "length": 13,
    }
