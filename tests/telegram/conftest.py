"""Fixtures: the fake Bot API server on loopback, and the real bot running against it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from telegram.ext import Application

from tests.telegram.fake_bot_api import FakeBotApi

# httpx honours proxy variables; nothing in these tests may leave the machine.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

# Looks like a real token (digits, colon, 35 characters) so format checks pass, and is
# distinctive enough that searching logs for it proves something.
TEST_TOKEN = "987654321:AAFake-Token_For_Tests_0123456789xyz"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """A fresh fake Bot API server on a free loopback port."""
    server = FakeBotApi(TEST_TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


AnyApp = Application[Any, Any, Any, Any, Any, Any]


class AppThread:
    """Runs a blocking `run_polling`/`run_webhook` style entry point in its own thread.

    The entry point receives an `on_ready(app)` callback to call from its `post_init`, on
    the bot's own event loop; that is how we learn the loop and the Application to stop.
    """

    def __init__(self, target: Callable[[Callable[[AnyApp], None]], object]) -> None:
        self._target = target
        self._ready = threading.Event()
        self.app: AnyApp | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.result: object = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="bot-under-test", daemon=True)

    def _on_ready(self, app: AnyApp) -> None:
        self.app = app
        self.loop = asyncio.get_running_loop()
        self._ready.set()

    def _main(self) -> None:
        try:
            self.result = self._target(self._on_ready)
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
        finally:
            self._ready.set()

    async def start(self, timeout: float = 10.0) -> None:
        """Start the thread and wait until the bot's post_init ran."""
        self._thread.start()
        ready = await asyncio.to_thread(self._ready.wait, timeout)
        if self.error is not None:
            raise self.error
        assert ready and self.app is not None, "the bot did not start in time"

    async def stop(self, timeout: float = 10.0) -> object:
        """Ask the bot to stop on its own loop, wait for the thread; returns the result."""
        if self.app is not None and self.loop is not None and not self.loop.is_closed():
            # RuntimeError: the loop closed in between, so the bot already stopped.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.app.stop_running)
        await asyncio.to_thread(self._thread.join, timeout)
        assert not self._thread.is_alive(), "the bot thread did not stop"
        if self.error is not None:
            raise self.error
        return self.result

    @property
    def alive(self) -> bool:
        """Whether the bot's thread still runs."""
        return self._thread.is_alive()
