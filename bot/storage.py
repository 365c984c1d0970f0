"""The question log: what users asked, what the bot did, and what moderators should fix.

SQLite by default (one file, created with its schema on first start); PostgreSQL when several
bot instances must share one log. Recording is best-effort: a database that is down, locked
or full costs a logged warning, never an answer.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import hmac
import logging
import math
import os
import secrets
import stat
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from rapidfuzz import fuzz, process
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    event,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot import matching
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.answers import Reply

logger = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 2
"""The schema this code reads and writes; `open()` migrates anything older up to it."""

NOT_QUESTIONS: Final = ("chitchat", "prompt")
"""Reply kinds that are not questions about the knowledge: never misses, not in the rate."""

GROUP_AT: Final = 85.0
"""Two normalized questions this similar (token sort ratio) are one miss group."""

MAX_MISS_ROWS: Final = 20_000
"""Most recent miss rows grouped by `misses()`: bounds its memory and time."""

MAX_DAYS: Final = 3650
"""Longest window `misses()` and `stats()` accept; more is clamped, not an error."""

_TEXT_LIMIT: Final = 1000
_SHORT_LIMIT: Final = 16
_ENTRY_LIMIT: Final = 200
_EXAMPLES: Final = 5
_TOP_ENTRIES: Final = 10
_PG_MIGRATION_LOCK: Final = 0x6B62_5F71_6C6F_6701
"""Advisory lock key: instances starting together migrate one after the other."""

_T = TypeVar("_T")

KEY_FILE: Final = "user_hash.key"
"""Where the generated user-hash key lives in `data_dir` when USER_HASH_SECRET is not set."""


class StorageUnavailable(Exception):
    """The question log could not be read or purged (moderator views, the purge job)."""


# --- schema --------------------------------------------------------------------------------

_Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER

_meta = MetaData()

schema_version = Table(
    "schema_version",
    _meta,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime, nullable=False),
)

questions = Table(
    "questions",
    _meta,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, comment="UTC"),
    Column("chat_type", String(_SHORT_LIMIT), nullable=False),
    Column("lang", String(_SHORT_LIMIT), nullable=False),
    Column("question", Text, nullable=False),
    Column("normalized", Text, nullable=False),
    Column("entry", String(_ENTRY_LIMIT)),
    Column("score", Float, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("user_hash", String(64)),
    Column("kind", String(_SHORT_LIMIT), nullable=False),  # v2
    Column("vote", SmallInteger),  # v2
)
"""The current (v2) shape, for queries. Tables are only ever created by the migrations."""


def _v1_tables() -> MetaData:
    """Schema v1, frozen: where every database starts, whatever `questions` becomes later."""
    meta = MetaData()
    Table(
        "questions",
        meta,
        Column("id", _Id, primary_key=True, autoincrement=True),
        Column("at", DateTime, nullable=False),
        Column("chat_type", String(16), nullable=False),
        Column("lang", String(16), nullable=False),
        Column("question", Text, nullable=False),
        Column("normalized", Text, nullable=False),
        Column("entry", String(200)),
        Column("score", Float, nullable=False),
        Column("answered", Boolean, nullable=False),
        Column("user_hash", String(64)),
    )
    return meta


async def _to_v1(conn: AsyncConnection) -> None:
    await conn.run_sync(_v1_tables().create_all)


async def _to_v2(conn: AsyncConnection) -> None:
    """v2: the reply kind (so small talk is not a miss), the user's vote, and a time index."""
    await conn.execute(
        text("ALTER TABLE questions ADD COLUMN kind VARCHAR(16) NOT NULL DEFAULT 'answer'")
    )
    await conn.execute(
        text("UPDATE questions SET kind = 'fallback' WHERE answered = :no"), {"no": False}
    )
    await conn.execute(text("ALTER TABLE questions ADD COLUMN vote SMALLINT"))
    await conn.execute(text("CREATE INDEX ix_questions_at ON questions (at)"))


_MIGRATIONS: Final[tuple[Callable[[AsyncConnection], Coroutine[Any, Any, None]], ...]] = (
    _to_v1,
    _to_v2,
)
"""`_MIGRATIONS[n]` takes a version-n database to version n + 1; a new database runs them all."""
assert len(_MIGRATIONS) == SCHEMA_VERSION


class SchemaTooNew(Exception):
    """The database was migrated by a newer bot: writing to it could corrupt it."""


async def migrate(conn: AsyncConnection) -> int:
    """Bring the schema up to date in the caller's transaction; returns the version found."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    await conn.run_sync(_meta.create_all, tables=[schema_version], checkfirst=True)
    found = (await conn.execute(select(func.max(schema_version.c.version)))).scalar() or 0
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(f"schema v{found} is newer than this bot's v{SCHEMA_VERSION}")
    for version in range(found, SCHEMA_VERSION):
        await _MIGRATIONS[version](conn)
        await conn.execute(
            insert(schema_version).values(
                version=version + 1, applied_at=_utcnow().replace(tzinfo=None)
            )
        )
        logger.info("question log: schema migrated to v%d", version + 1)
    return int(found)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissGroup:
    """Near-duplicate questions the bot could not answer (or answered badly), as one item."""

    question: str
    """The most asked wording: what "add as a variant" would add."""
    lang: str
    """The language of `question`."""
    count: int
    langs: tuple[str, ...]
    examples: tuple[str, ...]
    """Distinct wordings, most asked first, `question` included."""
    entry: str | None
    """The entry these questions came closest to (most common), None if nothing was close."""
    best_score: float
    downvotes: int
    last_at: datetime
    """UTC, timezone-aware."""


@dataclass(frozen=True)
class DayCount:
    day: date
    questions: int
    answered: int


@dataclass(frozen=True)
class EntryCount:
    entry: str
    count: int


@dataclass(frozen=True)
class EntryVotes:
    entry: str
    down: int
    up: int


@dataclass(frozen=True)
class Stats:
    """The last `days` UTC calendar days, today included."""

    days: int
    since: datetime
    total: int
    """Everything recorded, small talk included."""
    asked: int
    """Questions about the knowledge: `total` without small talk and empty or too long ones."""
    answered: int
    answer_rate: float
    """`answered / asked`, 0.0 when nothing was asked."""
    per_day: tuple[DayCount, ...]
    """Every day of the window, oldest first, days without questions included."""
    most_asked: tuple[EntryCount, ...]
    worst_rated: tuple[EntryVotes, ...]
    """Answered entries with down-votes, most down-voted first."""
    up_votes: int
    down_votes: int


# --- the log -------------------------------------------------------------------------------


RECORD_BATCH = 200
"""Most questions one transaction inserts: those that queued while the last one was written."""


class QuestionLog:
    """One database of recorded questions, shared by every bot instance that points at it.

    Questions are written by one task at a time, each transaction inserting every question
    that queued up while the previous one ran (one row when the bot is quiet, so nothing
    waits for a batch to fill): under load a write costs a fraction of a transaction, and
    writes from this process never contend with each other for SQLite's lock.
    """

    def __init__(self, engine: AsyncEngine, user_key: bytes, *, url: str) -> None:
        self._engine = engine
        self._user_key = user_key
        self._url = url
        self._ready = False
        self._schema_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        """Held by every write of this log (questions, votes, purges): one at a time."""
        self._queued: list[tuple[dict[str, Any], asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._schema_failed_at = -math.inf
        self._healthy = True
        self._lost = 0
        self._closed = False

    @classmethod
    async def open(cls, url: str, user_key: bytes, *, timeout: float = 5.0) -> QuestionLog:
        """Connect and create or migrate the schema.

        Only a malformed or unsupported URL or an empty key raise (configuration errors, seen
        at startup). A database that is down only logs a warning: the schema is created on
        the first write that reaches it.
        """
        if not user_key:
            raise ValueError("the user-hash key is empty")
        parsed = _parse_url(url)
        engine = _engine(parsed, timeout)
        log = cls(engine, bytes(user_key), url=parsed.render_as_string(hide_password=True))
        try:
            await log._ensure_schema()
        except Exception as exc:
            log._down(exc)
        return log

    @classmethod
    async def from_settings(cls, settings: Settings) -> QuestionLog:
        """The log the bot uses: `DATABASE_URL`, keyed with `user_hash_key(settings)`."""
        return await cls.open(settings.log_url, user_hash_key(settings))

    @property
    def url(self) -> str:
        """The database URL with its password hidden: safe to log and to show moderators."""
        return self._url

    @property
    def healthy(self) -> bool:
        """False from a failed database operation until the next one that succeeds."""
        return self._healthy

    async def close(self) -> None:
        self._closed = True
        writer = self._writer
        if writer is not None and not writer.done() and writer.get_loop() is _running_loop():
            await asyncio.wait([writer], timeout=10.0)  # what was queued before closing
        await self._engine.dispose()

    def user_hash(self, user_id: int) -> str:
        """HMAC-SHA256 of the id: the same user links up across questions, but is not stored."""
        return hmac.new(self._user_key, str(int(user_id)).encode(), hashlib.sha256).hexdigest()

    async def record(
        self,
        *,
        at: datetime,
        chat_type: str,
        lang: str,
        question: str,
        normalized: str,
        entry: str | None,
        score: float,
        answered: bool,
        user_id: int | None,
        kind: str,
    ) -> int | None:
        """Store one question; returns its row id for `feedback`, or None. Never raises."""
        if self._closed:
            return None
        try:
            row = {
                "at": _as_utc(at).replace(tzinfo=None),
                "chat_type": _clean(chat_type, _SHORT_LIMIT),
                "lang": _clean(lang, _SHORT_LIMIT),
                "question": _clean(question, _TEXT_LIMIT),
                "normalized": _clean(normalized, _TEXT_LIMIT),
                "entry": None if entry is None else _clean(entry, _ENTRY_LIMIT) or None,
                "score": _finite(score),
                "answered": bool(answered),
                "user_hash": None if user_id is None else self.user_hash(user_id),
                "kind": _clean(kind, _SHORT_LIMIT),
            }
        except Exception as exc:  # a caller's bug must not cost the user the answer
            logger.warning("question log: question not recorded, bad input (%s)", _describe(exc))
            return None
        loop = asyncio.get_running_loop()
        written: asyncio.Future[int | None] = loop.create_future()
        self._queued.append((row, written))
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_queued())
        return await written

    async def _write_queued(self) -> None:
        """The one writer: insert what is queued, a batch per transaction, until none is."""
        batch: list[tuple[dict[str, Any], asyncio.Future[int | None]]] = []
        try:
            while self._queued:
                batch, self._queued = self._queued[:RECORD_BATCH], self._queued[RECORD_BATCH:]
                ids = await self._insert([row for row, _ in batch])
                for (_, written), row_id in zip(batch, ids, strict=True):
                    if not written.done():
                        written.set_result(row_id)
                batch = []
        finally:  # empty unless cancelled (the loop is closing): then nobody waits forever
            left, self._queued = [*batch, *self._queued], []
            for _, written in left:
                if not written.done():
                    written.set_result(None)

    async def _insert(self, rows: list[dict[str, Any]]) -> list[int | None]:
        """Insert rows in one transaction; their ids in order, or all None if it failed."""
        try:
            await self._ensure_schema()
            async with self._write_lock, self._engine.begin() as conn:
                if len(rows) == 1:
                    result = await conn.execute(insert(questions).values(**rows[0]))
                    key = result.inserted_primary_key
                    ids = [key[0] if key else None]
                else:
                    # INSERT ... RETURNING (SQLite 3.35+, PostgreSQL), ids in the rows' order.
                    stmt = insert(questions).returning(questions.c.id, sort_by_parameter_order=True)
                    ids = [found for (found,) in await conn.execute(stmt, rows)]
        except Exception as exc:
            self._down(exc)
            self._lost += len(rows) - 1
            return [None] * len(rows)
        self._up()
        return [None if row_id is None else int(row_id) for row_id in ids]

    async def record_reply(
        self, reply: Reply, *, chat_type: str, user_id: int | None, at: datetime | None = None
    ) -> int | None:
        """`record` for an engine reply, so that every adapter records the same way: the
        entry is the closest one even when the bot abstained (what `misses` shows)."""
        try:
            question = reply.question[:_TEXT_LIMIT]
            normalized = matching.normalize(question)
        except Exception as exc:
            logger.warning("question log: question not recorded, bad input (%s)", _describe(exc))
            return None
        return await self.record(
            at=_utcnow() if at is None else at,
            chat_type=chat_type,
            lang=reply.lang,
            question=question,
            normalized=normalized,
            entry=reply.entry or reply.closest,
            score=reply.score,
            answered=reply.answered,
            user_id=user_id,
            kind=reply.kind,
        )

    async def feedback(self, row_id: int, vote: int, *, user_id: int | None = None) -> bool:
        """A 👍 (+1) or 👎 (-1) on a recorded reply; the last vote wins. Never raises.

        With `user_id`, the vote counts only from the user who asked, checked against the
        row's user hash: a replayed or forged button changes nothing, and any instance
        sharing the log (and its USER_HASH_SECRET) can take the vote. Returns whether a row
        took it: False for an unknown row, someone else's question, a bad vote, or a
        database that is down.
        """
        if self._closed:
            return False
        if isinstance(vote, bool) or vote not in (1, -1) or not isinstance(row_id, int):
            logger.warning("question log: feedback ignored, bad vote or row id")
            return False
        try:
            await self._ensure_schema()
            async with self._write_lock, self._engine.begin() as conn:
                stmt = update(questions).where(questions.c.id == row_id)
                if user_id is not None:
                    stmt = stmt.where(questions.c.user_hash == self.user_hash(user_id))
                result = await conn.execute(stmt.values(vote=vote))
        except Exception as exc:
            self._down(exc)
            return False
        self._up()
        return result.rowcount == 1

    async def misses(
        self, days: int, limit: int = 20, *, now: datetime | None = None
    ) -> list[MissGroup]:
        """The most frequent unanswered or down-voted questions of the last `days` days.

        Near-duplicates (normalized texts at least `GROUP_AT` alike) are one group. Small
        talk and empty or too long messages are not misses. Raises `StorageUnavailable`.
        """
        days = _clamp(days, 1, MAX_DAYS)
        limit = _clamp(limit, 1, 1000)
        since = (_utcnow() if now is None else _as_utc(now)) - timedelta(days=days)
        c = questions.c
        missed = or_(and_(c.answered == false(), c.kind.not_in(NOT_QUESTIONS)), c.vote == -1)
        stmt = (
            select(c.at, c.lang, c.question, c.normalized, c.entry, c.score, c.vote)
            .where(c.at >= since.replace(tzinfo=None), missed)
            .order_by(c.at.desc(), c.id.desc())
            .limit(MAX_MISS_ROWS)
        )
        rows = await self._read(lambda conn: _fetch(conn, stmt))
        misses = [_Miss(*row) for row in rows]
        return await asyncio.to_thread(_group_misses, misses, limit)

    async def stats(self, days: int, *, now: datetime | None = None) -> Stats:
        """Questions per day, answer rate, most asked and worst-rated entries.

        Raises `StorageUnavailable`.
        """
        days = _clamp(days, 1, MAX_DAYS)
        today = (_utcnow() if now is None else _as_utc(now)).date()
        first = today - timedelta(days=days - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=UTC)
        return await self._read(lambda conn: _stats(conn, days, since, today))

    async def purge(self, retention_days: int, *, now: datetime | None = None) -> int:
        """Delete what is older than `retention_days` days; returns the rows deleted.

        Raises `StorageUnavailable`, and `ValueError` for a retention under one day.
        """
        if isinstance(retention_days, bool) or retention_days < 1:
            raise ValueError(f"retention must be at least one day, not {retention_days!r}")
        cutoff = (_utcnow() if now is None else _as_utc(now)) - timedelta(
            days=min(retention_days, 100 * MAX_DAYS)
        )

        async def run(conn: AsyncConnection) -> int:
            result = await conn.execute(
                delete(questions).where(questions.c.at < cutoff.replace(tzinfo=None))
            )
            return int(result.rowcount)

        deleted = await self._read(run)
        if deleted:
            logger.info(
                "question log: purged %d questions older than %d days", deleted, retention_days
            )
        return deleted

    # --- internals ---

    async def _ensure_schema(self) -> None:
        """Create or migrate once; callers queued behind a failed try share its failure
        rather than each waiting for their own timeout."""
        if self._ready:
            return
        queued_at = time.monotonic()
        async with self._schema_lock:
            if self._ready:
                return
            if self._schema_failed_at > queued_at:
                raise StorageUnavailable("the schema could not be checked just now")
            try:
                _create_sqlite_file(self._engine.url)
                async with self._engine.begin() as conn:
                    await migrate(conn)
            except Exception:
                self._schema_failed_at = time.monotonic()
                raise
            self._ready = True

    async def _read(self, run: Callable[[AsyncConnection], Coroutine[Any, Any, _T]]) -> _T:
        try:
            await self._ensure_schema()
            async with self._engine.begin() as conn:
                result = await run(conn)
        except Exception as exc:
            self._down(exc)
            raise StorageUnavailable(f"the question log is unavailable: {_describe(exc)}") from exc
        self._up()
        return result

    def _down(self, exc: BaseException) -> None:
        """Warn once per outage; count what it costs."""
        self._lost += 1
        if self._healthy:
            self._healthy = False
            logger.warning(
                "question log %s unavailable, questions are not recorded until it is back: %s",
                self._url,
                _describe(exc),
            )
        else:
            logger.debug("question log still unavailable: %s", _describe(exc))

    def _up(self) -> None:
        if not self._healthy:
            self._healthy = True
            logger.info(
                "question log %s is back (%d operations failed meanwhile)", self._url, self._lost
            )
        self._lost = 0


@dataclass(frozen=True)
class _Miss:
    at: datetime
    lang: str
    question: str
    normalized: str
    entry: str | None
    score: float
    vote: int | None


async def _fetch(conn: AsyncConnection, stmt: Any) -> list[Any]:
    return list((await conn.execute(stmt)).all())


def _group_misses(rows: Sequence[_Miss], limit: int) -> list[MissGroup]:
    """Group near-duplicate questions, most frequent first (star clustering on the
    normalized text: a wording joins the group of the most asked wording it is close to)."""
    exact: dict[str, list[_Miss]] = {}
    for row in rows:
        key = row.normalized.strip() or row.question.strip().casefold()
        exact.setdefault(key, []).append(row)
    keys = sorted(exact, key=lambda k: (-len(exact[k]), -max(r.at for r in exact[k]).timestamp()))
    heads: list[str] = []
    members: list[list[_Miss]] = []
    for key in keys:
        found = process.extractOne(key, heads, scorer=fuzz.token_sort_ratio, score_cutoff=GROUP_AT)
        if found is None:
            heads.append(key)
            members.append(list(exact[key]))
        else:
            members[found[2]].extend(exact[key])
    groups = [_group(rows) for rows in members]
    groups.sort(key=lambda g: (-g.count, -g.last_at.timestamp()))
    return groups[:limit]


def _group(rows: list[_Miss]) -> MissGroup:
    wordings = Counter(r.question.strip() for r in rows)
    question = wordings.most_common(1)[0][0]
    lang = Counter(r.lang for r in rows if r.question.strip() == question).most_common(1)[0][0]
    entries = Counter(r.entry for r in rows if r.entry)
    return MissGroup(
        question=question,
        lang=lang,
        count=len(rows),
        langs=tuple(sorted({r.lang for r in rows})),
        examples=tuple(w for w, _ in wordings.most_common(_EXAMPLES)),
        entry=entries.most_common(1)[0][0] if entries else None,
        best_score=max(r.score for r in rows),
        downvotes=sum(1 for r in rows if r.vote == -1),
        last_at=_as_utc(max(r.at for r in rows)),
    )


async def _stats(conn: AsyncConnection, days: int, since: datetime, today: date) -> Stats:
    c = questions.c
    recent = c.at >= since.replace(tzinfo=None)
    is_answered = case((c.answered == true(), 1), else_=0)
    day = func.date(c.at)
    per_day_rows = (
        await conn.execute(
            select(day, func.count(), func.sum(is_answered)).where(recent).group_by(day)
        )
    ).all()
    by_day = {_as_date(d): (int(n), int(a or 0)) for d, n, a in per_day_rows}
    per_day = tuple(
        DayCount(d, *by_day.get(d, (0, 0)))
        for d in (since.date() + timedelta(days=i) for i in range(days))
    )
    total, asked, answered, up, down = (
        await conn.execute(
            select(
                func.count(),
                func.sum(case((c.kind.not_in(NOT_QUESTIONS), 1), else_=0)),
                func.sum(is_answered),
                func.sum(case((c.vote == 1, 1), else_=0)),
                func.sum(case((c.vote == -1, 1), else_=0)),
            ).where(recent)
        )
    ).one()
    n = func.count().label("n")
    most_asked = (
        await conn.execute(
            select(c.entry, n)
            .where(recent, c.answered == true(), c.entry.is_not(None))
            .group_by(c.entry)
            .order_by(n.desc(), c.entry)
            .limit(_TOP_ENTRIES)
        )
    ).all()
    downs = func.sum(case((c.vote == -1, 1), else_=0)).label("down")
    ups = func.sum(case((c.vote == 1, 1), else_=0)).label("up")
    worst = (
        await conn.execute(
            select(c.entry, downs, ups)
            .where(recent, c.answered == true(), c.entry.is_not(None), c.vote.is_not(None))
            .group_by(c.entry)
            .having(downs > 0)
            .order_by(downs.desc(), ups, c.entry)
            .limit(_TOP_ENTRIES)
        )
    ).all()
    asked, answered = int(asked or 0), int(answered or 0)
    return Stats(
        days=days,
        since=since,
        total=int(total),
        asked=asked,
        answered=answered,
        answer_rate=answered / asked if asked else 0.0,
        per_day=per_day,
        most_asked=tuple(EntryCount(str(e), int(k)) for e, k in most_asked),
        worst_rated=tuple(EntryVotes(str(e), int(d), int(u)) for e, d, u in worst),
        up_votes=int(up or 0),
        down_votes=int(down or 0),
    )


# --- CSV export ----------------------------------------------------------------------------

CSV_COLUMNS: Final = (
    "count",
    "question",
    "lang",
    "langs",
    "closest_entry",
    "best_score",
    "downvotes",
    "last_at",
    "examples",
)


def export_misses_csv(groups: Iterable[MissGroup], path: Path | str) -> int:
    """Write the groups as CSV (UTF-8 with a BOM, so spreadsheets read the accents right).

    The file appears whole or not at all (written beside, then renamed). User text that a
    spreadsheet would run as a formula is prefixed with a quote. Returns the rows written.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_COLUMNS)
            for g in groups:
                writer.writerow(
                    [
                        g.count,
                        _cell(g.question),
                        g.lang,
                        " ".join(g.langs),
                        g.entry or "",
                        f"{g.best_score:.1f}",
                        g.downvotes,
                        g.last_at.isoformat(timespec="seconds"),
                        _cell(" | ".join(g.examples)),
                    ]
                )
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas in user text (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- the user-hash key ---------------------------------------------------------------------


def user_hash_key(settings: Settings) -> bytes:
    """USER_HASH_SECRET when set; else a random key made once and kept in `data_dir`.

    Never raises: if the key file cannot be read or made, a key for this run only is used
    (hashes then do not link up across restarts) and a warning says so.
    """
    if settings.user_hash_secret is not None:
        return settings.user_hash_secret.get_secret_value().encode("utf-8")
    if _backend(settings.log_url) == "postgresql":
        logger.warning(
            "USER_HASH_SECRET is not set: each instance sharing the PostgreSQL question log "
            "hashes user ids with its own key; set one secret for all of them"
        )
    path = settings.data_dir / KEY_FILE
    try:
        return _load_or_create_key(path)
    except (OSError, ValueError) as exc:
        logger.warning(
            "user-hash key %s unusable (%s): using a key for this run only", path, _describe(exc)
        )
        return secrets.token_bytes(32)


def _load_or_create_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)  # atomic and exclusive: of two instances starting, one wins
                logger.info("user-hash key created in %s", path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        logger.warning("user-hash key %s was readable by others; now 0600", path)
    key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(key) < 16:
        raise ValueError("key shorter than 16 bytes")
    return key


# --- helpers -------------------------------------------------------------------------------


def _backend(url: str) -> str:
    """The backend name of a URL ("sqlite", "postgresql"), or "" when it does not parse."""
    try:
        return make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return ""


_DRIVERS: Final = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # The message would repeat the URL, password included.
        raise ValueError("DATABASE_URL is not a database URL") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if _DRIVERS.get(backend) != driver:
        raise ValueError(
            "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://, "
            f"not {backend}+{driver}://"
        )
    return parsed


def _engine(url: URL, timeout: float) -> AsyncEngine:
    """Bounded waits everywhere: a slow database must not hold a reply for long."""
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url, connect_args={"timeout": timeout}, hide_parameters=True, pool_pre_ping=True
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            # We emit BEGIN ourselves (below), so DDL is transactional and migrations atomic.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA synchronous=NORMAL")
                # WAL (readers never wait for the writer) stays set in the file once any
                # connection sets it; one that starts while another holds the lock skips it.
                cursor.execute("PRAGMA journal_mode=WAL")
            except Exception as exc:
                logger.debug("question log: WAL not set on this connection: %s", _describe(exc))
            finally:
                cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no deadlock

        return engine
    return create_async_engine(
        url,
        connect_args={"timeout": timeout, "command_timeout": timeout},
        hide_parameters=True,
        pool_pre_ping=True,
    )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _create_sqlite_file(url: URL) -> None:
    """The folder, and the file readable by its owner only (it holds what users asked)."""
    if url.get_backend_name() != "sqlite":
        return
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _describe(exc: BaseException) -> str:
    """One line, without the SQL and its parameters (which hold what users asked)."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    return f"{type(inner).__name__}: {message}"[:300]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _as_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC (that is how they are stored)."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_date(value: object) -> date:
    """SQLite's date() gives text, PostgreSQL's a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _clean(value: str, limit: int) -> str:
    """Text any database accepts: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    value = value.replace("\x00", "").strip()[:limit]
    return value.encode("utf-8", "replace").decode("utf-8")


def _finite(value: float) -> float:
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(int(value), high))
