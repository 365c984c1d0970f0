"""Fixtures: the fake Bot API server on loopback, and the real bot running against it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import SecretStr
from telegram.ext import Application

from bot.answers import Engine, EngineRef
from bot.knowledge import parse_knowledge
from bot.settings import Settings
from bot.telegram_app import run
from tests.telegram.fake_bot_api import FakeBotApi, private_chat
from tests.telegram.moderation_kit import MOD, MOD2, SHIPPED, Moderated

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

    async def wait_running(self, timeout: float = 10.0) -> None:
        """Wait until the updater (poll or webhook server) and the application both run."""
        deadline = time.monotonic() + timeout
        while not (self.app is not None and self.app.running and _updater_running(self.app)):
            assert self.alive, f"the bot stopped early: {self.result!r} {self.error!r}"
            assert time.monotonic() < deadline, "the bot did not start running in time"
            await asyncio.sleep(0.01)

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


def _updater_running(app: AnyApp) -> bool:
    return app.updater is not None and app.updater.running


# -- the real bot ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge" / "deepseek.yaml"


def make_settings(api: FakeBotApi, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test: the fake server, a private data dir, nothing read from .env.

    The knowledge file is a private copy (the bot watches it, and moderators may replace it)
    and the question log a SQLite file in the data dir.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    knowledge = data_dir / "knowledge" / KNOWLEDGE.name
    if "knowledge_path" not in overrides and not knowledge.exists():
        knowledge.parent.mkdir(parents=True, exist_ok=True)
        knowledge.write_bytes(KNOWLEDGE.read_bytes())
    values: dict[str, Any] = {
        "telegram_bot_token": SecretStr(TEST_TOKEN),
        "knowledge_path": knowledge,
        "database_url": f"sqlite+aiosqlite:///{data_dir / 'questions.db'}",
        "user_hash_secret": SecretStr("test-user-hash-secret"),
        "data_dir": data_dir,
        "log_level": "INFO",
        "moderator_ids": frozenset(),
        "webhook_url": None,
        "webhook_secret": None,
        "telegram_api_base_url": api.base_url,
        "telegram_api_base_file_url": api.base_file_url,
        "user_rate_limit": 20,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class BotRunner:
    """Starts the bot through `bot.telegram_app.run`, in a thread, and stops it after the test."""

    api: FakeBotApi
    data_dir: Path
    shared: Engine
    threads: list[AppThread] = field(default_factory=list)

    async def start(
        self, *, engine: EngineRef | Literal["shared", "load"] = "shared", **overrides: Any
    ) -> AppThread:
        """Run the bot; "load" makes `run` read KNOWLEDGE_PATH itself, as in production."""
        settings = make_settings(self.api, self.data_dir, **overrides)
        # Indexing the knowledge takes a while; most tests share one engine (it is immutable).
        ref = EngineRef(self.shared) if engine == "shared" else None if engine == "load" else engine

        def target(on_ready: Callable[[AnyApp], None]) -> int:
            return run(settings, engine=ref, stop_signals=None, on_ready=on_ready)

        thread = AppThread(target)
        self.threads.append(thread)
        await thread.start()
        await thread.wait_running()
        return thread

    async def stop_all(self) -> None:
        for thread in self.threads:
            if thread.alive:
                assert await thread.stop() == 0


@pytest.fixture
async def runner(api: FakeBotApi, tmp_path: Path, engine: Engine) -> AsyncIterator[BotRunner]:
    """Start bots with `await runner.start(**settings)`; they are stopped after the test."""
    bots = BotRunner(api, tmp_path / "data", engine)
    try:
        yield bots
    finally:
        await bots.stop_all()


@pytest.fixture
async def bot(runner: BotRunner) -> AppThread:
    """The bot with default test settings, running in polling mode."""
    return await runner.start()


def find_question(engine: Engine, kind: str, candidates: list[str]) -> str:
    """A question the engine answers with `kind`, so tests follow the engine's tuning."""
    for question in candidates:
        if engine.ask(question).kind == kind:
            return question
    raise AssertionError(f"none of {candidates} gives a {kind!r} reply any more")


# -- moderators ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def shipped_engine() -> Engine:
    """The engine of the knowledge file as the suite read it once (`SHIPPED`)."""
    return Engine.from_knowledge(parse_knowledge(SHIPPED))


async def start_moderated(
    runner: BotRunner, api: FakeBotApi, folder: Path, engine: Engine, **overrides: Any
) -> Moderated:
    """The bot with MOD and MOD2 as moderators, its knowledge file a copy in `folder`."""
    knowledge = folder / "deepseek.yaml"
    if not knowledge.exists():
        folder.mkdir(parents=True, exist_ok=True)
        knowledge.write_bytes(SHIPPED)
    values: dict[str, Any] = {
        "knowledge_path": knowledge,
        "moderator_ids": frozenset({MOD["id"], MOD2["id"]}),
        "user_rate_limit": 1000,
    }
    values.update(overrides)
    thread = await runner.start(engine=EngineRef(engine), **values)
    for moderator in (MOD, MOD2):  # as if both had started the bot before
        api.know_chat(private_chat(moderator))
    return Moderated(api, thread, knowledge)


@pytest.fixture
async def moderated(
    runner: BotRunner, api: FakeBotApi, tmp_path: Path, shipped_engine: Engine
) -> Moderated:
    """The bot with two moderators and its own copy of the knowledge file.

    A test that edits the file waits for `moderated.watching()` first.
    """
    return await start_moderated(runner, api, tmp_path / "kb", shipped_engine)
