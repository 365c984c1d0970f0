"""The question log, on a real SQLite file and on a real PostgreSQL server.

PostgreSQL: `TEST_DATABASE_URL` (a role allowed to CREATE DATABASE) when set; otherwise a
throwaway server (`initdb` + `pg_ctl`) on a free loopback port, run as the `postgres` user
when we are root. Those tests skip, saying why, only when no server can be started; with
`REQUIRE_POSTGRES=1` (CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import glob
import hashlib
import hmac
import logging
import os
import pwd
import secrets
import shlex
import shutil
import socket
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot import storage
from bot.answers import Engine
from bot.matching import normalize
from bot.settings import Settings
from bot.storage import (
    SCHEMA_VERSION,
    MissGroup,
    QuestionLog,
    StorageUnavailable,
    export_misses_csv,
    user_hash_key,
)

KEY = b"k" * 32
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
LOGGER = "bot.storage"


# --- a real PostgreSQL server --------------------------------------------------------------


class NoServer(Exception):
    """Why no PostgreSQL server could be had: the skip reason."""


@dataclass
class PgServer:
    admin_url: str
    """A superuser (or CREATEDB) URL on the maintenance database."""
    bindir: Path | None = None
    base: Path | None = None
    port: int = 0
    user: str | None = None

    @property
    def owned(self) -> bool:
        """Started by these tests, so they may stop it; not so for TEST_DATABASE_URL."""
        return self.base is not None

    def _run(self, *argv: str) -> None:
        subprocess.run(_as_user(self.user, argv), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        assert self.bindir is not None and self.base is not None
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            *("-D", str(self.base / "data"), "-l", str(self.base / "server.log")),
            *("-o", options, "-w", "-t", "30", "start"),
        )

    def stop(self, mode: str = "fast") -> None:
        assert self.bindir is not None and self.base is not None
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), "-m", mode, "-w", "stop"
        )


def _as_user(user: str | None, argv: tuple[str, ...]) -> list[str]:
    """PostgreSQL refuses to run as root."""
    if user is None:
        return list(argv)
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *argv]
    return ["su", "-s", "/bin/sh", user, "-c", shlex.join(argv)]


def _bindir() -> Path:
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent] if found else []
    candidates += sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise NoServer("no PostgreSQL server binaries (initdb, pg_ctl); apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server() -> PgServer:
    bindir = _bindir()
    user = None
    base = Path(tempfile.mkdtemp(prefix="kb-bot-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = pwd.getpwnam("nobody")
        user = account.pw_name
        os.chown(base, account.pw_uid, account.pw_gid)
    password = secrets.token_urlsafe(16)
    pwfile = base / "password"
    pwfile.write_text(password + "\n")
    if user is not None:
        os.chown(pwfile, pwd.getpwnam(user).pw_uid, -1)
    server = PgServer("", bindir, base, user=user)
    try:
        server._run(
            str(bindir / "initdb"),
            *("-D", str(base / "data"), "-U", "postgres", "--pwfile", str(pwfile)),
            *("--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"),
        )
        for attempt in range(3):  # the free port can be taken between finding and binding it
            server.port = _free_port()
            try:
                server.start()
                break
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        log = base / "server.log"
        tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise NoServer(
            f"could not start PostgreSQL with {bindir}: {exc} {detail.decode(errors='replace')}"
            f" {tail}".strip()
        ) from exc
    server.admin_url = f"postgresql+asyncpg://postgres:{password}@127.0.0.1:{server.port}/postgres"
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | NoServer]:
    """One server for the session; the reason instead when there is none."""
    given = os.environ.get("TEST_DATABASE_URL", "").strip()
    if given:
        url = make_url(given).set(drivername="postgresql+asyncpg")
        yield PgServer(url.render_as_string(hide_password=False))
        return
    try:
        server = _start_server()
    except NoServer as reason:
        yield reason
        return
    try:
        yield server
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            server.stop("immediate")
        assert server.base is not None
        shutil.rmtree(server.base, ignore_errors=True)


def _need(server: PgServer | NoServer) -> PgServer:
    if isinstance(server, NoServer):
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {server}")
        pytest.skip(f"PostgreSQL tests skipped: {server}")
    return server


@contextlib.asynccontextmanager
async def pg_database(server: PgServer) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped after it."""
    name = f"kb_test_{secrets.token_hex(6)}"
    # No pool: a test may restart the server in between.
    admin = create_async_engine(server.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server.admin_url).set(database=name).render_as_string(False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a file in a folder that does not exist yet, or a new PG one."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/data/questions.db"
        return
    server: PgServer | NoServer = request.getfixturevalue("pg_server")  # only when needed
    async with pg_database(_need(server)) as url:
        yield url


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[QuestionLog]:
    opened = await QuestionLog.open(database_url, KEY)
    try:
        yield opened
    finally:
        await opened.close()


async def ask(
    log: QuestionLog,
    question: str = "How much did DeepSeek pay for its GPUs?",
    *,
    at: datetime = NOW,
    lang: str = "en",
    entry: str | None = "gpu-cost",
    score: float = 70.0,
    answered: bool = True,
    kind: str | None = None,
    user_id: int | None = 42,
    chat_type: str = "private",
) -> int:
    row_id = await log.record(
        at=at,
        chat_type=chat_type,
        lang=lang,
        question=question,
        normalized=normalize(question),
        entry=entry,
        score=score,
        answered=answered,
        user_id=user_id,
        kind=kind or ("answer" if answered else "fallback"),
    )
    assert row_id is not None
    return row_id


async def raw(url: str, sql: str) -> list[dict[str, Any]]:
    """Read the tables directly, around the code under test."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return [dict(row._mapping) for row in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


async def execute(url: str, *statements: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for sql in statements:
                await conn.execute(text(sql))
    finally:
        await engine.dispose()


def as_dt(value: object) -> datetime:
    """SQLite hands back stored times as text when read without the table's types."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


# --- schema --------------------------------------------------------------------------------


async def test_first_start_creates_the_schema(database_url: str, tmp_path: Path) -> None:
    log = await QuestionLog.open(database_url, KEY)
    await log.close()
    if database_url.startswith("sqlite"):
        file = tmp_path / "data" / "questions.db"
        assert file.is_file()
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        with contextlib.closing(sqlite3.connect(file)) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    versions = await raw(database_url, "SELECT version FROM schema_version ORDER BY version")
    assert [v["version"] for v in versions] == list(range(1, SCHEMA_VERSION + 1))
    assert await raw(database_url, "SELECT * FROM questions") == []


async def test_opening_again_and_together_migrates_once(database_url: str) -> None:
    """Several instances starting at once on one database: one migrates, none fails."""
    logs = await asyncio.gather(*(QuestionLog.open(database_url, KEY) for _ in range(4)))
    try:
        assert all(log.healthy for log in logs)
        ids = await asyncio.gather(*(ask(log) for log in logs))
        assert len(set(ids)) == 4
    finally:
        for log in logs:
            await log.close()
    again = await QuestionLog.open(database_url, KEY)
    await again.close()
    versions = await raw(database_url, "SELECT version FROM schema_version ORDER BY version")
    assert [v["version"] for v in versions] == [1, 2]


V1_SQLITE = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at DATETIME NOT NULL, "
    "PRIMARY KEY (version))",
    "CREATE TABLE questions (id INTEGER NOT NULL, at DATETIME NOT NULL, "
    "chat_type VARCHAR(16) NOT NULL, lang VARCHAR(16) NOT NULL, question TEXT NOT NULL, "
    "normalized TEXT NOT NULL, entry VARCHAR(200), score FLOAT NOT NULL, "
    "answered BOOLEAN NOT NULL, user_hash VARCHAR(64), PRIMARY KEY (id))",
)
V1_POSTGRESQL = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL, "
    "applied_at TIMESTAMP WITHOUT TIME ZONE NOT NULL, PRIMARY KEY (version))",
    "CREATE TABLE questions (id BIGSERIAL NOT NULL, at TIMESTAMP WITHOUT TIME ZONE NOT NULL, "
    "chat_type VARCHAR(16) NOT NULL, lang VARCHAR(16) NOT NULL, question TEXT NOT NULL, "
    "normalized TEXT NOT NULL, entry VARCHAR(200), score FLOAT NOT NULL, "
    "answered BOOLEAN NOT NULL, user_hash VARCHAR(64), PRIMARY KEY (id))",
)
"""Schema v1 frozen as plain SQL, independent of the code under test: an upgrade's start."""


async def test_migration_from_v1_keeps_the_data(database_url: str, tmp_path: Path) -> None:
    sqlite = database_url.startswith("sqlite")
    if sqlite:
        (tmp_path / "data").mkdir()
    yes, no = ("1", "0") if sqlite else ("true", "false")
    await execute(
        database_url,
        *(V1_SQLITE if sqlite else V1_POSTGRESQL),
        "INSERT INTO schema_version (version, applied_at) VALUES (1, '2025-01-01 00:00:00')",
        "INSERT INTO questions (at, chat_type, lang, question, normalized, entry, score, "
        f"answered, user_hash) VALUES ('2025-03-09 08:00:00', 'private', 'en', 'Who founded "
        f"DeepSeek?', 'found deepseek', 'founder', 80.0, {yes}, NULL), ('2025-03-09 09:00:00', "
        f"'group', 'fr', 'Quel temps à Paris ?', 'temp paris', 'founder', 12.5, {no}, NULL)",
    )

    log = await QuestionLog.open(database_url, KEY)
    try:
        assert log.healthy
        versions = await raw(database_url, "SELECT version FROM schema_version ORDER BY version")
        assert [v["version"] for v in versions] == [1, 2]
        rows = await raw(database_url, "SELECT id, kind, vote FROM questions ORDER BY id")
        assert [(r["kind"], r["vote"]) for r in rows] == [("answer", None), ("fallback", None)]
        # Old rows work with the new features, new rows go after them.
        assert await log.feedback(rows[0]["id"], -1)
        new_id = await ask(log, at=NOW)
        assert new_id > rows[1]["id"]
        misses = await log.misses(7, now=NOW)
        assert {g.question for g in misses} == {"Who founded DeepSeek?", "Quel temps à Paris ?"}
    finally:
        await log.close()

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            columns, indexes = await conn.run_sync(
                lambda c: (
                    {col["name"] for col in inspect(c).get_columns("questions")},
                    {ix["name"] for ix in inspect(c).get_indexes("questions")},
                )
            )
    finally:
        await engine.dispose()
    assert columns == set(storage.questions.c.keys())
    assert "ix_questions_at" in indexes


async def test_a_newer_schema_is_left_alone(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A database a newer bot migrated: no write that could corrupt it, no crash either."""
    first = await QuestionLog.open(database_url, KEY)
    await first.close()
    await execute(
        database_url,
        "INSERT INTO schema_version (version, applied_at) VALUES (99, '2030-01-01 00:00:00')",
    )
    caplog.set_level(logging.INFO, LOGGER)
    log = await QuestionLog.open(database_url, KEY)
    try:
        assert not log.healthy
        assert await log.record(**_record_args()) is None
        assert any("newer" in w for w in warnings(caplog))
    finally:
        await log.close()
    assert await raw(database_url, "SELECT * FROM questions") == []


def _record_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "at": NOW,
        "chat_type": "private",
        "lang": "en",
        "question": "q",
        "normalized": "q",
        "entry": None,
        "score": 0.0,
        "answered": False,
        "user_id": 1,
        "kind": "fallback",
    }
    return args | overrides


# --- recording -----------------------------------------------------------------------------


async def test_record_stores_what_was_asked_and_done(log: QuestionLog, database_url: str) -> None:
    paris = datetime(2025, 3, 10, 13, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    first = await ask(log, at=paris, chat_type="group", lang="fr", score=71.25)
    second = await ask(log, "Hello!", answered=False, kind="chitchat", entry=None, user_id=None)
    assert second != first
    rows = await raw(database_url, "SELECT * FROM questions ORDER BY id")
    assert rows[0]["id"] == first
    assert as_dt(rows[0]["at"]) == datetime(2025, 3, 10, 13, 30)  # stored in UTC
    assert (rows[0]["chat_type"], rows[0]["lang"], rows[0]["entry"]) == ("group", "fr", "gpu-cost")
    assert rows[0]["normalized"] == "deepseek pay gpus"
    assert rows[0]["score"] == pytest.approx(71.25)
    assert bool(rows[0]["answered"]) is True
    assert rows[0]["kind"] == "answer" and rows[0]["vote"] is None
    assert (rows[1]["kind"], rows[1]["entry"], rows[1]["user_hash"]) == ("chitchat", None, None)


async def test_user_ids_are_never_stored_raw(log: QuestionLog, database_url: str) -> None:
    alice, bob = 123456789, 987654321
    await ask(log, user_id=alice)
    await ask(log, "Who founded DeepSeek?", user_id=alice)
    await ask(log, user_id=bob)
    rows = await raw(database_url, "SELECT * FROM questions ORDER BY id")
    for row in rows:
        for value in row.values():
            assert str(alice) not in str(value) and str(bob) not in str(value)
    expected = hmac.new(KEY, str(alice).encode(), hashlib.sha256).hexdigest()
    assert rows[0]["user_hash"] == rows[1]["user_hash"] == expected
    assert rows[2]["user_hash"] != expected
    other = await QuestionLog.open(database_url, b"another secret key")
    try:
        assert other.user_hash(alice) != expected  # without the secret, ids cannot be guessed
    finally:
        await other.close()


async def test_bad_input_is_cleaned_never_raised(
    log: QuestionLog, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ugly = "nul\x00 byte, lone surrogate \ud800, " + "x" * 50_000
    row_id = await log.record(
        **_record_args(
            at=datetime(2025, 3, 10, 12, 0),  # naive: taken as UTC
            question=ugly,
            normalized=ugly,
            chat_type="supergroup-with-a-very-long-type",
            entry="",
            score=float("nan"),
            kind="fallback",
        )
    )
    assert row_id is not None
    row = (await raw(database_url, "SELECT * FROM questions"))[0]
    assert row["question"].startswith("nul byte, lone surrogate ?, xxx")
    assert len(row["question"]) == 1000 and len(row["chat_type"]) == 16
    assert row["entry"] is None and row["score"] == 0.0
    assert as_dt(row["at"]) == datetime(2025, 3, 10, 12, 0)

    caplog.set_level(logging.WARNING, LOGGER)
    assert await log.record(**_record_args(at="yesterday")) is None
    assert await log.record(**_record_args(question=None)) is None
    assert await log.record(**_record_args(user_id="me")) is None
    assert len(warnings(caplog)) == 3
    assert log.healthy  # a caller's bug is not an outage
    assert len(await raw(database_url, "SELECT id FROM questions")) == 1


async def test_record_reply_keeps_the_closest_entry(
    log: QuestionLog, database_url: str, engine: Engine
) -> None:
    answered = engine.ask(engine.kb.entries[0].questions.fr[0])
    abstained = engine.ask("What is the price of bananas in Lima?")
    chat = engine.ask("hello")
    assert answered.kind == "answer" and abstained.kind in ("suggest", "fallback")
    for reply in (answered, abstained, chat):
        assert await log.record_reply(reply, chat_type="private", user_id=7, at=NOW) is not None
    rows = await raw(database_url, "SELECT * FROM questions ORDER BY id")
    assert [(r["kind"], r["entry"], bool(r["answered"])) for r in rows] == [
        ("answer", answered.entry, True),
        (abstained.kind, abstained.closest, False),
        ("chitchat", None, False),
    ]
    assert rows[0]["lang"] == "fr" and rows[0]["normalized"] == normalize(answered.question)
    assert rows[1]["score"] == pytest.approx(abstained.score)


async def test_many_records_at_once(log: QuestionLog) -> None:
    ids = await asyncio.gather(*(ask(log, f"question {n}") for n in range(40)))
    assert len(set(ids)) == 40


async def test_questions_written_together_each_get_their_own_row(
    log: QuestionLog, database_url: str
) -> None:
    """Questions that queue up are inserted in one transaction: each still gets its own row
    id back, so the 👍/👎 under an answer rate that answer and no other."""
    ids = await asyncio.gather(*(ask(log, f"question {n}", user_id=n) for n in range(150)))
    stored = await raw(database_url, "SELECT id, question FROM questions")
    question_of = {row["id"]: row["question"] for row in stored}
    assert [question_of[i] for i in ids] == [f"question {n}" for n in range(150)]
    assert await log.feedback(ids[77], -1, user_id=77)
    assert not await log.feedback(ids[78], -1, user_id=77)


async def test_feedback_last_vote_wins(log: QuestionLog, database_url: str) -> None:
    row_id = await ask(log)
    assert await log.feedback(row_id, 1)
    assert await log.feedback(row_id, -1)
    assert (await raw(database_url, "SELECT vote FROM questions"))[0]["vote"] == -1
    assert await log.feedback(row_id, 1)
    assert (await raw(database_url, "SELECT vote FROM questions"))[0]["vote"] == 1
    assert not await log.feedback(row_id + 1000, -1)  # unknown row
    for bad in (0, 2, True):
        assert not await log.feedback(row_id, bad)
    assert (await raw(database_url, "SELECT vote FROM questions"))[0]["vote"] == 1


async def test_a_vote_counts_only_from_the_user_who_asked(
    log: QuestionLog, database_url: str
) -> None:
    row_id = await ask(log, user_id=42)
    assert not await log.feedback(row_id, -1, user_id=43)  # a replayed button
    assert (await raw(database_url, "SELECT vote FROM questions"))[0]["vote"] is None
    assert await log.feedback(row_id, -1, user_id=42)
    other_instance = await QuestionLog.open(database_url, KEY)  # same secret, same log
    try:
        assert await other_instance.feedback(row_id, 1, user_id=42)
    finally:
        await other_instance.close()
    assert (await raw(database_url, "SELECT vote FROM questions"))[0]["vote"] == 1


async def test_record_after_close_is_a_no_op(database_url: str) -> None:
    log = await QuestionLog.open(database_url, KEY)
    await log.close()
    assert await log.record(**_record_args()) is None
    assert not await log.feedback(1, 1)


# --- misses, stats, purge ------------------------------------------------------------------


async def test_misses_group_near_duplicates_with_their_closest_entry(log: QuestionLog) -> None:
    hour = timedelta(hours=1)
    gpus = [
        ("How much did DeepSeek pay for its GPUs?", "en"),
        ("How much did DeepSeek pay for its GPUs?", "en"),
        ("how much did deepseek pay for the GPUs", "en"),
        ("Combien DeepSeek a-t-il payé ses GPU ?", "fr"),
    ]
    for n, (question, lang) in enumerate(gpus):
        # The engine names the closest entry even when it abstains; once, nothing was close.
        entry = [None, "gpu-cost", "gpu-cost", "chips"][n]
        at = NOW - n * hour
        await ask(log, question, lang=lang, entry=entry, score=30 + n, answered=False, at=at)
    await ask(log, "What is the weather in Paris?", entry=None, score=5.0, answered=False)
    at = NOW - timedelta(minutes=1)
    await ask(log, "What is the weather in Paris", entry=None, score=6, answered=False, at=at)
    down = await ask(log, "Who founded DeepSeek?", entry="founder", score=88.0)
    assert await log.feedback(down, -1)
    up = await ask(log, "Who is the founder of DeepSeek?", entry="founder", score=90.0)
    assert await log.feedback(up, 1)
    # Not misses: answered without a down-vote, small talk, an empty message, too old.
    await ask(log, "What did DeepSeek release?", entry="release")
    await ask(log, "Hello!", answered=False, kind="chitchat", entry=None)
    await ask(log, "???", answered=False, kind="prompt", entry=None)
    await ask(
        log, "How much did DeepSeek pay for its GPUs?", answered=False, at=NOW - 8 * 24 * hour
    )

    groups = await log.misses(7, now=NOW)
    assert [(g.question, g.count) for g in groups] == [
        ("How much did DeepSeek pay for its GPUs?", 4),
        ("What is the weather in Paris?", 2),
        ("Who founded DeepSeek?", 1),
    ]
    gpu, weather, founder = groups
    assert gpu.lang == "en" and gpu.langs == ("en", "fr")
    assert gpu.examples == (
        "How much did DeepSeek pay for its GPUs?",
        "how much did deepseek pay for the GPUs",
        "Combien DeepSeek a-t-il payé ses GPU ?",
    )
    assert gpu.entry == "gpu-cost"  # the most common non-empty one
    assert gpu.best_score == pytest.approx(33.0)
    assert gpu.last_at == NOW and gpu.downvotes == 0
    assert weather.entry is None and weather.best_score == pytest.approx(6.0)
    assert (founder.entry, founder.downvotes, founder.best_score) == ("founder", 1, 88.0)

    assert [g.count for g in await log.misses(7, limit=1, now=NOW)] == [4]
    assert next(g.count for g in await log.misses(30, now=NOW)) == 5  # the old one is back in
    assert await log.misses(7, now=NOW + timedelta(days=30)) == []
    assert await log.misses(-3, limit=0, now=NOW) != []  # clamped to one day, one group


async def test_stats_per_day_rate_most_asked_and_worst_rated(log: QuestionLog) -> None:
    day = timedelta(days=1)
    for _ in range(3):
        await ask(log, entry="gpu-cost")
    await ask(log, "Who founded DeepSeek?", entry="founder", at=NOW - day)
    bad = await ask(log, "Who founded DeepSeek?", entry="founder", at=NOW - day)
    await log.feedback(bad, -1)
    meh = await ask(log, entry="gpu-cost", at=NOW - 2 * day)
    await log.feedback(meh, -1)
    good = await ask(log, entry="gpu-cost", at=NOW - 2 * day)
    await log.feedback(good, 1)
    await ask(log, "What is the weather?", answered=False, entry=None, at=NOW - day)
    await ask(log, "Hello!", answered=False, kind="chitchat", entry=None)
    await ask(log, "Old question", at=NOW - 3 * day)  # outside a 3-day window

    stats = await log.stats(3, now=NOW)
    assert stats.since == datetime(2025, 3, 8, tzinfo=UTC)
    assert [(d.day, d.questions, d.answered) for d in stats.per_day] == [
        (date(2025, 3, 8), 2, 2),
        (date(2025, 3, 9), 3, 2),
        (date(2025, 3, 10), 4, 3),
    ]
    assert (stats.total, stats.asked, stats.answered) == (9, 8, 7)
    assert stats.answer_rate == pytest.approx(7 / 8)
    assert [(e.entry, e.count) for e in stats.most_asked] == [("gpu-cost", 5), ("founder", 2)]
    assert [(e.entry, e.down, e.up) for e in stats.worst_rated] == [
        ("founder", 1, 0),
        ("gpu-cost", 1, 1),
    ]
    assert (stats.up_votes, stats.down_votes) == (1, 2)

    empty = await log.stats(1, now=NOW + 30 * day)
    assert empty.total == 0 and empty.answer_rate == 0.0 and len(empty.per_day) == 1
    assert len((await log.stats(100_000, now=NOW)).per_day) == storage.MAX_DAYS


async def test_purge_deletes_only_what_is_older_than_retention(
    log: QuestionLog, database_url: str
) -> None:
    day = timedelta(days=1)
    await ask(log, "very old", at=NOW - 400 * day)
    await ask(log, "old", at=NOW - 91 * day)
    await ask(log, "recent", at=NOW - 89 * day)
    await ask(log, "today", at=NOW)
    assert await log.purge(90, now=NOW) == 2
    assert await log.purge(90, now=NOW) == 0
    left = await raw(database_url, "SELECT question FROM questions ORDER BY id")
    assert [r["question"] for r in left] == ["recent", "today"]
    with pytest.raises(ValueError):
        await log.purge(0)


# --- the database going away ---------------------------------------------------------------


async def test_postgresql_stopped_then_restarted(
    pg_server: PgServer | NoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A real outage: the server stops; the bot keeps answering; the log catches up after."""
    server = _need(pg_server)
    if not server.owned:
        pytest.skip("TEST_DATABASE_URL is someone else's server: not stopping it")
    caplog.set_level(logging.INFO, LOGGER)
    async with pg_database(server) as database_url:
        await _outage(server, database_url, caplog)


async def _outage(server: PgServer, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    log = await QuestionLog.open(database_url, KEY, timeout=2.0)
    late: QuestionLog | None = None
    try:
        before = await ask(log)
        server.stop()
        try:
            for _ in range(3):
                assert await log.record(**_record_args()) is None
            assert not await log.feedback(before, -1)
            with pytest.raises(StorageUnavailable):
                await log.misses(7)
            with pytest.raises(StorageUnavailable):
                await log.stats(7)
            assert not log.healthy
            # An instance starting while the server is down starts anyway.
            late = await QuestionLog.open(database_url, KEY, timeout=2.0)
            assert not late.healthy
        finally:
            server.start()
        assert len(warnings(caplog)) == 2  # once per log and outage, not once per question
        after = await ask(log)
        assert after > before and log.healthy
        assert await late.record(**_record_args()) is not None and late.healthy
        assert any("is back" in r.getMessage() for r in caplog.records)
        assert await log.feedback(before, -1)
        assert len(await raw(database_url, "SELECT id FROM questions")) == 3
    finally:
        await log.close()
        if late is not None:
            await late.close()


async def test_sqlite_locked_then_released(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds the write lock past our timeout: the same as down, for a bot."""
    file = tmp_path / "questions.db"
    caplog.set_level(logging.INFO, LOGGER)
    log = await QuestionLog.open(f"sqlite+aiosqlite:///{file}", KEY, timeout=0.2)
    try:
        before = await ask(log)
        blocker = sqlite3.connect(file, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            assert await log.record(**_record_args()) is None
            assert await log.record(**_record_args()) is None
            assert not await log.feedback(before, 1)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert len(warnings(caplog)) == 1
        assert await ask(log) > before
        assert log.healthy
    finally:
        await log.close()


async def test_sqlite_unwritable_path_then_fixed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The folder cannot be made (a file is in the way, root or not); then it can."""
    blocked = tmp_path / "data"
    blocked.write_text("not a folder")
    caplog.set_level(logging.WARNING, LOGGER)
    log = await QuestionLog.open(f"sqlite+aiosqlite:///{blocked}/questions.db", KEY)
    try:
        assert not log.healthy
        assert await log.record(**_record_args()) is None
        assert len(warnings(caplog)) == 1
        blocked.unlink()
        assert await log.record(**_record_args()) is not None
        assert (blocked / "questions.db").is_file()
    finally:
        await log.close()


async def test_unsupported_or_malformed_urls_fail_at_startup_without_the_password() -> None:
    for url in (
        "mysql+aiomysql://bot:hunter2@db/questions",
        "postgresql://bot:hunter2@db/questions",  # the sync driver would block the bot
        "sqlite:///data/questions.db",
        "not a url with hunter2",
    ):
        with pytest.raises(ValueError) as caught:
            await QuestionLog.open(url, KEY)
        assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError):
        await QuestionLog.open("sqlite+aiosqlite://", b"")


async def test_the_url_shown_hides_the_password() -> None:
    log = await QuestionLog.open("postgresql+asyncpg://bot:hunter2@127.0.0.1:1/x", KEY, timeout=1)
    try:
        assert "hunter2" not in log.url and "***" in log.url
        assert await log.record(**_record_args()) is None
    finally:
        await log.close()


# --- CSV export ----------------------------------------------------------------------------


def test_export_misses_csv(tmp_path: Path) -> None:
    groups = [
        MissGroup(
            question="Combien DeepSeek a-t-il payé ses GPU ?",
            lang="fr",
            count=3,
            langs=("en", "fr"),
            examples=("Combien DeepSeek a-t-il payé ses GPU ?", "how much for GPUs"),
            entry="gpu-cost",
            best_score=47.25,
            downvotes=1,
            last_at=NOW,
        ),
        MissGroup("=HYPERLINK(1)", "en", 1, ("en",), ("=HYPERLINK(1)",), None, 0.0, 0, NOW),
    ]
    path = tmp_path / "misses.csv"
    assert export_misses_csv(groups, path) == 2
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(storage.CSV_COLUMNS)
    assert rows[0]["question"] == "Combien DeepSeek a-t-il payé ses GPU ?"
    assert rows[0]["closest_entry"] == "gpu-cost" and rows[0]["best_score"] == "47.2"
    assert rows[0]["langs"] == "en fr" and rows[0]["last_at"] == "2025-03-10T12:00:00+00:00"
    assert rows[0]["examples"] == "Combien DeepSeek a-t-il payé ses GPU ? | how much for GPUs"
    assert rows[1]["question"].startswith("'=") and rows[1]["closest_entry"] == ""
    assert export_misses_csv([], path) == 0
    assert path.read_text(encoding="utf-8-sig").strip() == ",".join(storage.CSV_COLUMNS)
    assert [p.name for p in tmp_path.iterdir()] == ["misses.csv"]  # no temporary file left
    with pytest.raises(FileNotFoundError):
        export_misses_csv(groups, tmp_path / "missing" / "misses.csv")


async def test_exported_misses_come_from_the_log(log: QuestionLog, tmp_path: Path) -> None:
    await ask(log, "Quel temps à Paris ?", lang="fr", answered=False, entry=None)
    path = tmp_path / "out.csv"
    assert export_misses_csv(await log.misses(7, now=NOW), path) == 1
    assert "Quel temps à Paris ?" in path.read_text(encoding="utf-8-sig")


# --- settings and the user-hash key --------------------------------------------------------


def test_settings_for_the_question_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "USER_HASH_SECRET", "RETENTION_DAYS", "DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings()
    assert defaults.log_url == "sqlite+aiosqlite:///data/questions.db"
    monkeypatch.setenv("DATA_DIR", "/var/lib/kbbot")
    assert Settings().log_url == "sqlite+aiosqlite:////var/lib/kbbot/questions.db"
    assert defaults.user_hash_secret is None and defaults.retention_days == 90
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://bot:pw@db/kb")
    monkeypatch.setenv("USER_HASH_SECRET", "  ")
    monkeypatch.setenv("RETENTION_DAYS", "30")
    given = Settings()
    assert given.log_url.startswith("postgresql+asyncpg://")
    assert given.user_hash_secret is None and given.retention_days == 30
    monkeypatch.setenv("RETENTION_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_user_hash_key_from_the_secret(tmp_path: Path) -> None:
    settings = Settings(user_hash_secret=SecretStr("s3cret-s3cret-s3cret"), data_dir=tmp_path)
    assert user_hash_key(settings) == b"s3cret-s3cret-s3cret"
    assert list(tmp_path.iterdir()) == []


def test_user_hash_key_generated_once_owner_only(tmp_path: Path) -> None:
    settings = Settings(user_hash_secret=None, data_dir=tmp_path / "data")
    key = user_hash_key(settings)
    file = tmp_path / "data" / storage.KEY_FILE
    assert len(key) == 32 and stat.S_IMODE(file.stat().st_mode) == 0o600
    assert user_hash_key(settings) == key  # stable across restarts
    file.chmod(0o644)
    assert user_hash_key(settings) == key
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert sorted(p.name for p in file.parent.iterdir()) == [storage.KEY_FILE]


def test_a_broken_key_file_is_kept_and_the_bot_still_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / storage.KEY_FILE
    file.write_text("not hex\n")
    file.chmod(0o600)
    caplog.set_level(logging.WARNING, LOGGER)
    key = user_hash_key(Settings(user_hash_secret=None, data_dir=tmp_path))
    assert len(key) == 32
    assert file.read_text() == "not hex\n"  # never overwritten: it may be fixable
    assert len(warnings(caplog)) == 1
