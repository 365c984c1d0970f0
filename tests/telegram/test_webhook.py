"""Webhook mode: the real PTB webhook server on loopback, guarded by the secret token."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest
from pydantic import SecretStr

from tests.telegram.conftest import BotRunner
from tests.telegram.fake_bot_api import FakeBotApi, user

SECRET = "s3cret_Webhook-Token_for_tests"
GRACE = user(7001, "Grace", "en")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_accepts_only_the_right_secret(
    runner: BotRunner, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    await runner.start(
        webhook_url="https://bot.example.test/tg/hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret=SecretStr(SECRET),
        log_level="DEBUG",
    )
    (registered,) = api.calls_to("setWebhook")
    assert registered.params["url"] == "https://bot.example.test/tg/hook"
    assert registered.params["secret_token"] == SECRET
    assert registered.params["allowed_updates"] == ["message", "callback_query", "inline_query"]
    assert api.calls_to("getUpdates") == []  # no polling in webhook mode
    assert len(api.calls_to("setMyCommands")) == 3

    url = f"http://127.0.0.1:{port}/tg/hook"
    header = "X-Telegram-Bot-Api-Secret-Token"
    none = api.prepare(api.message_update(GRACE, "What did Donald Trump say?"))
    wrong = api.prepare(api.message_update(GRACE, "How much did GPT-4 cost to train?"))
    right = api.prepare(api.message_update(GRACE, "How much does DeepSeek-R1 cost?"))
    async with httpx.AsyncClient() as client:
        refused = await client.post(url, json=none)
        forged = await client.post(url, json=wrong, headers={header: "not-the-secret"})
        accepted = await client.post(url, json=right, headers={header: SECRET})
        elsewhere = await client.post(f"http://127.0.0.1:{port}/other", json=right)
    assert refused.status_code == 403
    assert forged.status_code == 403
    assert accepted.status_code == 200
    assert elsewhere.status_code == 404

    (sent,) = await api.wait_for("sendMessage")
    assert sent.actions[0] == "fb:+:en:r1_pricing"
    await api.quiet(0.3)
    assert len(api.calls_to("sendMessage")) == 1  # the refused updates were never processed
    # PTB logs the setWebhook parameters at DEBUG: the secret must be masked there.
    assert "setWebhook" in caplog.text and "not-the-secret" in caplog.text
    assert SECRET not in caplog.text
    assert all(SECRET not in repr(r.__dict__) for r in caplog.records)
