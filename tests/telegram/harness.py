"""What the reliability and security tests share: the real bot run in a thread or a process,
with every exception its handlers raise kept, and every log record captured.

No fakes of our own code here: `run` is the production entry point, `python -m bot run` the
production command, and the server on the other side is `fake_bot_api` on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import ContextTypes

from bot.answers import Engine, EngineRef
from bot.telegram_app import run
from tests.telegram.conftest import KNOWLEDGE, ROOT, TEST_TOKEN, AnyApp, AppThread, make_settings
from tests.telegram.fake_bot_api import FakeBotApi

# -- capturing every log record ----------------------------------------------------------------


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback, plus the raw record attributes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.__dict__))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def all_logs_at_debug() -> Iterator[Everything]:
    """Every logger at DEBUG into one handler, including loggers that do not propagate."""
    handler = Everything()
    root = logging.getLogger()
    saved = {name: lg.level for name, lg in _loggers()}
    root_level = root.level
    root.addHandler(handler)
    attached = [lg for _, lg in _loggers() if not lg.propagate]
    for lg in attached:
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg in attached:
            lg.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
        root.setLevel(root_level)


def _loggers() -> list[tuple[str, logging.Logger]]:
    return [
        (name, lg)
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    ]


def everything_at_debug() -> None:
    """After the bot configured logging (it quiets httpx), turn every logger up again."""
    logging.getLogger().setLevel(logging.DEBUG)
    for _, lg in _loggers():
        lg.setLevel(logging.DEBUG)


# -- the bot in a thread, with its errors watched -----------------------------------------------


@dataclass
class Watched:
    """The bot, and every exception its handlers raised, as text (message and traceback)."""

    thread: AppThread
    errors: list[str] = field(default_factory=list)

    @property
    def services(self) -> Any:
        """The bot's `Services` (engine, library, question log...)."""
        assert self.thread.app is not None
        return self.thread.app.bot_data["services"]


async def start_watched(
    api: FakeBotApi, tmp_path: Path, engine: Engine | None, **overrides: Any
) -> Watched:
    """`run` in a thread with test settings; `engine=None` makes it load the file itself."""
    settings = make_settings(api, tmp_path / "data", **overrides)
    errors: list[str] = []

    async def spy(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if error is not None:
            errors.append(repr(error) + "\n" + "".join(traceback.format_exception(error)))

    def target(on_ready: Callable[[AnyApp], None]) -> int:
        def ready(app: AnyApp) -> None:
            app.add_error_handler(spy)
            on_ready(app)

        ref = EngineRef(engine) if engine is not None else None
        return run(settings, engine=ref, stop_signals=None, on_ready=ready)

    thread = AppThread(target)
    await thread.start()
    await thread.wait_running()
    return Watched(thread, errors)


@pytest.fixture
async def watched_stop() -> AsyncIterator[list[Watched]]:
    """Append bots started with `start_watched`: they are stopped (and must exit 0) after."""
    bots: list[Watched] = []
    try:
        yield bots
    finally:
        for bot in bots:
            if bot.thread.alive:
                assert await bot.thread.stop() == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the bot as a real process -------------------------------------------------------------------


@dataclass
class BotProcess:
    """`python -m bot run` in its own process; its log goes to a file (never a full pipe)."""

    proc: asyncio.subprocess.Process
    log_path: Path
    data_dir: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def rss_mb(self) -> float:
        """Resident memory now, from /proc (what the kernel charges the process)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kb / 1024

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code (killed, and the test failed, if it hangs)."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"the bot did not stop within {timeout} s of SIGTERM") from None


async def start_process(api: FakeBotApi, tmp_path: Path, **env: str) -> BotProcess:
    """Start the bot process against `api` and wait until it starts polling."""
    data = tmp_path / "data"
    knowledge = data / "knowledge" / KNOWLEDGE.name
    knowledge.parent.mkdir(parents=True, exist_ok=True)
    knowledge.write_bytes(KNOWLEDGE.read_bytes())
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    full_env = {
        **keep,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_API_BASE_FILE_URL": api.base_file_url,
        "DATA_DIR": str(data),
        "KNOWLEDGE_PATH": str(knowledge),
        "DATABASE_URL": f"sqlite+aiosqlite:///{data / 'questions.db'}",
        "USER_HASH_SECRET": "process-test-user-hash-secret",
        "LOG_LEVEL": "INFO",
        **env,
    }
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=full_env, stdout=out, stderr=out
        )
    bot = BotProcess(proc, log_path, data)
    deadline = time.monotonic() + 30
    # deleteWebhook comes right before the first long poll (which is recorded only when it
    # returns); updates injected from now on are fetched by it.
    while not api.calls_to("deleteWebhook"):
        assert bot.alive, f"the bot exited early:\n{bot.log}"
        assert time.monotonic() < deadline, f"the bot did not start polling:\n{bot.log}"
        await asyncio.sleep(0.05)
    return bot


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    """Append bot processes: any still running after the test is killed."""
    started: list[BotProcess] = []
    try:
        yield started
    finally:
        for bot in started:
            if bot.alive:
                bot.proc.kill()
                await bot.proc.wait()
