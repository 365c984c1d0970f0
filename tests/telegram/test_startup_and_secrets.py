"""Starting up: bad settings exit 2 with one line; the token and secret never reach a log."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.telegram_app import REDACTOR, SecretRedactor, run
from tests.telegram.conftest import ROOT, TEST_TOKEN, BotRunner, make_settings
from tests.telegram.fake_bot_api import FakeBotApi, user

HEIDI = user(8001, "Heidi", "en")
TOKEN_SECRET = TEST_TOKEN.split(":", 1)[1]
WEBHOOK_SECRET = "hook-Secret_value_0123456789"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"telegram_bot_token": None}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"telegram_bot_token": SecretStr("not a token")}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"telegram_bot_token": SecretStr("12345:short")}, "TELEGRAM_BOT_TOKEN is malformed"),
        ({"webhook_url": "https://example.test/hook"}, "WEBHOOK_SECRET is required"),
        (
            {"webhook_url": "https://example.test/hook", "webhook_secret": SecretStr("sp ace")},
            "WEBHOOK_SECRET must be",
        ),
        ({"log_level": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_exit_2_with_one_line(
    overrides: dict[str, Any],
    expected: str,
    api: FakeBotApi,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings(api, tmp_path, **overrides)
    assert run(settings, stop_signals=None) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err
    assert "Traceback" not in err
    assert api.calls == []  # nothing was even tried


def test_an_unusable_knowledge_file_exits_1(
    api: FakeBotApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(api, tmp_path, knowledge_path=tmp_path / "missing.yaml")
    assert run(settings, stop_signals=None) == 1
    err = capsys.readouterr().err
    assert "missing.yaml" in err and "file not found" in err and "Traceback" not in err


async def test_a_token_telegram_rejects_exits_2_without_leaking_it(
    api: FakeBotApi,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    other = "111222333:AAOther-Token_Rejected_0123456789abc"
    settings = make_settings(api, tmp_path, telegram_bot_token=SecretStr(other), log_level="DEBUG")
    assert await asyncio.to_thread(run, settings, stop_signals=None) == 2
    err = capsys.readouterr().err
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in err and err.count("\n") == 1
    assert [c.status for c in api.calls] == [401]
    secret = other.split(":", 1)[1]
    assert secret not in err
    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert secret not in caplog.text
    assert all(secret not in repr(r.__dict__) for r in caplog.records)


async def test_the_token_never_appears_in_debug_logs(
    runner: BotRunner, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await runner.start(log_level="DEBUG")
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.setLevel(logging.DEBUG)  # even if someone turns the URL logging back on
    try:
        api.fail("sendMessage", 429, retry_after=1)
        api.say(HEIDI, "How much does DeepSeek-R1 cost?")
        (sent,) = await api.wait_for("sendMessage", timeout=8)
        api.press(HEIDI, sent.message, sent.callback_data[0])
        await api.wait_for("answerCallbackQuery")
        api.inline(HEIDI, "")
        await api.wait_for("answerInlineQuery")
        for thread in runner.threads:
            await thread.stop()
    finally:
        httpx_logger.setLevel(logging.WARNING)
    logged = caplog.text
    assert "Set Bot API URL" in logged  # PTB logs the URL with the token at DEBUG...
    assert "HTTP Request: POST" in logged  # ...and so does httpx...
    assert "[REDACTED]" in logged  # ...and we masked both.
    assert TOKEN_SECRET not in logged
    assert all(TOKEN_SECRET not in repr(r.__dict__) for r in caplog.records)


def test_the_redactor_masks_messages_arguments_and_tracebacks() -> None:
    redactor = SecretRedactor()
    redactor.add(TEST_TOKEN, WEBHOOK_SECRET)
    try:
        raise RuntimeError(f"boom at https://x/bot{TEST_TOKEN}/getMe")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "t",
            logging.ERROR,
            __file__,
            1,
            "url %s secret %s",
            (TEST_TOKEN, WEBHOOK_SECRET),
            (type(exc), exc, exc.__traceback__),
        )
    redactor.filter(record)
    text = logging.Formatter().format(record)
    assert TOKEN_SECRET not in text and WEBHOOK_SECRET not in text
    assert record.exc_info is None and "RuntimeError: boom" in text


def test_the_global_redactor_covers_any_logger(caplog: pytest.LogCaptureFixture) -> None:
    from bot.telegram_app import configure_logging

    configure_logging("INFO", [TEST_TOKEN])
    assert REDACTOR.redact(f"x{TOKEN_SECRET}x") == "x[REDACTED]x"  # the secret half alone too
    logging.getLogger("some.library").warning("calling %s", f"/bot{TEST_TOKEN}/x")
    assert TOKEN_SECRET not in caplog.text and "[REDACTED]" in caplog.text


# -- the real command line ------------------------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {
        **keep,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


async def test_python_m_bot_run_without_a_token_says_so_in_one_line(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=_env(tmp_path, TELEGRAM_BOT_TOKEN=""),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().count("\n") == 1 and b"TELEGRAM_BOT_TOKEN" in err
    assert b"Traceback" not in err + out


async def test_sigterm_stops_the_bot_cleanly(api: FakeBotApi, tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TEST_TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_API_BASE_FILE_URL=api.base_file_url,
        LOG_LEVEL="INFO",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        api.say(HEIDI, "How much does DeepSeek-R1 cost?")
        await api.wait_for("sendMessage", timeout=30)
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert TOKEN_SECRET.encode() not in err + out
    assert b"Bot stopped" in err
