"""The knowledge in service: the live engine, its file, and every safe way to change them.

One `Library` owns the `EngineRef` the bot answers from and the `KnowledgeFile` it came from.
A hot reload, an upload, an "add as a variant" and a rollback all end in the same step:
validate, build the new engine beside the old one, write the file atomically (history kept),
swap. A bad file never reaches the engine, so there is never a moment with no knowledge.

No Telegram here: the chat handlers run these methods in a thread (they parse and index, which
is CPU work) and the CLI or tests can call them directly. Every method is thread-safe: one lock
serializes the changes, so two uploads confirmed at once are applied one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from watchfiles import Change as FileChange
from watchfiles import awatch

from bot.answers import Engine, EngineRef
from bot.knowledge import (
    MAX_FILE_BYTES,
    KnowledgeBase,
    KnowledgeError,
    Lang,
    Problem,
    content_version,
    parse_knowledge,
)
from bot.moderation import Diff, KnowledgeFile, Version, add_variant, diff

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 1024 * 1024
"""An uploaded knowledge file larger than this is refused before it is even parsed."""
MAX_PENDING = 20
"""Proposals waiting for a Confirm; older ones are forgotten (their buttons say "expired")."""
WATCH_STEP_MS = 100
"""A burst of writes is one change once the file has been quiet this long."""
WATCH_DEBOUNCE_MS = 2000
"""A file written to without pause is still reloaded this often."""
WATCH_TIMEOUT_MS = 500
"""How often the idle watcher wakes up (its first wake-up tells that it is watching)."""


@dataclass(frozen=True)
class Change:
    """A new version put live: what the moderators are told."""

    version: str
    previous: str
    entry_count: int
    diff: Diff

    def lines(self) -> list[str]:
        """The new version, its size and what changed, one line each."""
        head = f"version {self.version} (was {self.previous}), {self.entry_count} entries"
        return [head, *self.diff.lines()]


ReloadStatus = Literal["reloaded", "unchanged", "restored", "invalid", "missing"]


@dataclass(frozen=True)
class ReloadResult:
    """What a reload found. Only "unchanged" (and a repeat of the same problem) is news to no one.

    reloaded: a new valid file is live; unchanged: the file is the live version;
    restored: the file is the live version again after an error; invalid / missing: the file
    cannot be used, the last good version keeps serving.
    """

    status: ReloadStatus
    live_version: str
    live_entries: int
    change: Change | None = None
    problems: tuple[str, ...] = ()
    repeat: bool = False
    """The same bad file (or the same absence) as the previous reload reported."""

    @property
    def news(self) -> bool:
        """Worth a message to the moderators when nobody asked."""
        return self.status != "unchanged" and not self.repeat


ApplyStatus = Literal[
    "applied", "gone", "forbidden", "stale", "same", "no_version", "invalid", "failed"
]


@dataclass(frozen=True)
class ApplyResult:
    """The outcome of a Confirm or a rollback; only "applied" changed anything.

    gone: no such pending proposal (applied, cancelled or expired); forbidden: not the
    proposer's; stale: the file changed since the proposal; same: already the live version;
    no_version: no such history entry; invalid: the version does not validate; failed: the
    file could not be written (nothing changed).
    """

    status: ApplyStatus
    live_version: str
    change: Change | None = None
    problems: tuple[str, ...] = ()
    disk_version: str | None = None


@dataclass(frozen=True)
class Proposal:
    """A validated new version waiting for its proposer's Confirm.

    `base` is the version of the file on disk when it was proposed: if the file changes
    before the Confirm, the diff the moderator read is no longer the truth and it is refused.
    """

    id: str
    data: bytes = field(repr=False)
    kb: KnowledgeBase = field(repr=False)
    owner: int | None
    label: str
    base: str | None
    live_version: str
    live_entries: int
    diff: Diff

    @property
    def version(self) -> str:
        return self.kb.version

    @property
    def entry_count(self) -> int:
        return len(self.kb.entries)

    @property
    def identical(self) -> bool:
        """The same bytes as the live version: there is nothing to confirm."""
        return self.kb.version == self.live_version


@dataclass(frozen=True)
class Status:
    """What `/kb` shows."""

    version: str
    entry_count: int
    path: Path
    loaded_at: datetime
    last_error: tuple[str, ...]
    disk_version: str | None
    """The file's version now; None when it is missing. Differs from `version` after an error."""


class Library:
    """The live knowledge and its file; see the module docstring."""

    def __init__(
        self,
        engine: EngineRef,
        kfile: KnowledgeFile,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.file = kfile
        self._clock = clock
        self._lock = threading.RLock()
        self._loaded_at = clock()
        self._last_error: tuple[str, ...] = ()
        self._last_bad: str | None = None
        self._pending: dict[str, Proposal] = {}
        self._live_data = self._disk_bytes_of(engine.current.version)
        """The live version's bytes: a hand edit overwrites the file, the history keeps them."""
        self.watching = threading.Event()
        """Set once the file watcher is registered (tests wait for it before editing)."""

    @classmethod
    def open(cls, path: Path) -> Library:
        """Load a knowledge file; raises `KnowledgeError` when it cannot be used."""
        return cls(EngineRef(Engine.from_path(path)), KnowledgeFile(path))

    @property
    def path(self) -> Path:
        return self.file.path

    def status(self) -> Status:
        with self._lock:
            live = self.engine.current
            return Status(
                live.version,
                live.entry_count,
                self.path,
                self._loaded_at,
                self._last_error,
                self._disk_version(),
            )

    # -- reload ---------------------------------------------------------------------------

    def reload(self) -> ReloadResult:
        """Read the file again: a valid new version goes live, anything else keeps the old one."""
        with self._lock:
            live = self.engine.current
            try:
                data = self._read_disk()
            except KnowledgeError as exc:
                return self._bad("missing", live, exc.problems, "missing")
            version = content_version(data)
            if version == live.version:
                had_error = bool(self._last_error)
                self._last_error, self._last_bad = (), None
                status: ReloadStatus = "restored" if had_error else "unchanged"
                return ReloadResult(status, live.version, live.entry_count)
            try:
                kb = parse_knowledge(data)
            except KnowledgeError as exc:
                return self._bad("invalid", live, exc.problems, version)
            if self._live_data is not None:
                try:
                    self.file.archive(self._live_data)
                except OSError as exc:  # the new version still goes live; say what is lost
                    log.error("Could not keep the previous version in the history: %s", exc)
            change = self._go_live(kb)
            self._live_data = data
            log.info("Knowledge reloaded from %s: %s", self.path, "; ".join(change.lines()))
            return ReloadResult("reloaded", change.version, change.entry_count, change)

    def _bad(
        self, status: ReloadStatus, live: Engine, problems: list[Problem], key: str
    ) -> ReloadResult:
        repeat = self._last_bad == key
        self._last_bad = key
        self._last_error = tuple(str(p) for p in problems)
        log.warning("Knowledge file %s not loaded (%s): %s", self.path, status, self._last_error)
        return ReloadResult(
            status, live.version, live.entry_count, problems=self._last_error, repeat=repeat
        )

    # -- proposals ------------------------------------------------------------------------

    def propose(
        self,
        data: bytes,
        *,
        owner: int | None = None,
        label: str = "upload",
        limit: int = MAX_UPLOAD_BYTES,
    ) -> Proposal:
        """Validate a new version and keep it for a Confirm; raises `KnowledgeError`.

        An identical version is returned but not kept: there is nothing to confirm.
        """
        if len(data) > limit:
            raise KnowledgeError([Problem("file", f"is larger than {_size(limit)}")])
        kb = parse_knowledge(data)
        with self._lock:
            live = self.engine.current
            proposal = Proposal(
                id=self._new_id(),
                data=data,
                kb=kb,
                owner=owner,
                label=label,
                base=self._disk_version(),
                live_version=live.version,
                live_entries=live.entry_count,
                diff=diff(live.kb, kb),
            )
            if not proposal.identical:
                self._pending[proposal.id] = proposal
                for old in list(self._pending)[:-MAX_PENDING]:
                    del self._pending[old]
            return proposal

    def propose_variant(
        self, entry_id: str, lang: Lang, question: str, *, owner: int | None = None
    ) -> Proposal:
        """The file on disk with one more question variant, as a proposal; raises `KnowledgeError`.

        Edited round-trip, so the moderators' comments and layout survive.
        """
        with self._lock:
            entry = self.engine.current.kb.entry(entry_id)
            folded = " ".join(question.casefold().split())
            if entry is not None and any(
                " ".join(q.casefold().split()) == folded for q in getattr(entry.questions, lang)
            ):
                raise KnowledgeError(
                    [Problem(f"entry '{entry_id}'", f"already has the variant {question!r}")]
                )
            current = self._read_disk()
            try:
                edited = add_variant(current, entry_id, lang, question)
            except KeyError:
                raise KnowledgeError(
                    [Problem(f"entry '{entry_id}'", "is not in the knowledge file any more")]
                ) from None
            except Exception as exc:  # ruamel's many errors: the file on disk is broken
                raise KnowledgeError(
                    [Problem("file", f"cannot be edited, fix it first ({type(exc).__name__})")]
                ) from None
            return self.propose(
                edited, owner=owner, label=f"variant of {entry_id}", limit=MAX_FILE_BYTES
            )

    def pending(self, proposal_id: str) -> Proposal | None:
        with self._lock:
            return self._pending.get(proposal_id)

    def apply(self, proposal: Proposal | str, *, by: int | None = None) -> ApplyResult:
        """Put a pending proposal live, once, for its proposer, if the file did not change."""
        pid = proposal if isinstance(proposal, str) else proposal.id
        with self._lock:
            live = self.engine.current
            found = self._pending.get(pid)
            if found is None:
                return ApplyResult("gone", live.version)
            if found.owner is not None and by != found.owner:
                return ApplyResult("forbidden", live.version)
            del self._pending[pid]
            disk = self._disk_version()
            if disk != found.base:
                return ApplyResult("stale", live.version, disk_version=disk)
            return self._write_and_swap(found.data, found.kb)

    def cancel(self, proposal_id: str, *, by: int | None = None) -> ApplyResult:
        """Forget a pending proposal; only its proposer may. "applied" is never returned."""
        with self._lock:
            live = self.engine.current
            found = self._pending.get(proposal_id)
            if found is None:
                return ApplyResult("gone", live.version)
            if found.owner is not None and by != found.owner:
                return ApplyResult("forbidden", live.version)
            del self._pending[proposal_id]
            return ApplyResult("same", live.version)

    # -- history --------------------------------------------------------------------------

    def history(self) -> list[Version]:
        """Archived versions, newest first (number 1 is the most recent)."""
        return self.file.versions()

    def rollback(self, n: int = 1) -> ApplyResult:
        """Restore the n-th newest archived version through the same validation and swap.

        The version rolled back from is archived too, so a rollback can itself be undone.
        """
        with self._lock:
            live = self.engine.current
            versions = self.history()
            if not 1 <= n <= len(versions):
                return ApplyResult("no_version", live.version)
            try:
                data = versions[n - 1].path.read_bytes()
                kb = parse_knowledge(data)
            except OSError as exc:
                return ApplyResult("invalid", live.version, problems=(f"cannot be read: {exc}",))
            except KnowledgeError as exc:
                return ApplyResult(
                    "invalid", live.version, problems=tuple(str(p) for p in exc.problems)
                )
            if kb.version == live.version and self._disk_version() == live.version:
                return ApplyResult("same", live.version)
            return self._write_and_swap(data, kb)

    # -- internals ------------------------------------------------------------------------

    def _write_and_swap(self, data: bytes, kb: KnowledgeBase) -> ApplyResult:
        """Index first, then write (archiving the old file), then swap: any failure changes
        nothing."""
        live = self.engine.current
        engine = Engine.from_knowledge(kb, self.path)
        try:
            self.file.replace(data)
        except KnowledgeError as exc:  # validated already; only a changed rule could do this
            return ApplyResult("invalid", live.version, problems=tuple(map(str, exc.problems)))
        except OSError as exc:
            log.error("Could not write the knowledge file %s: %s", self.path, exc)
            return ApplyResult(
                "failed", live.version, problems=(f"cannot write the file: {exc.strerror}",)
            )
        change = self._swap(engine)
        self._live_data = data
        log.info("Knowledge replaced in %s: %s", self.path, "; ".join(change.lines()))
        return ApplyResult("applied", change.version, change)

    def _go_live(self, kb: KnowledgeBase) -> Change:
        return self._swap(Engine.from_knowledge(kb, self.path))

    def _swap(self, engine: Engine) -> Change:
        old = self.engine.swap(engine)
        self._loaded_at = self._clock()
        self._last_error, self._last_bad = (), None
        return Change(engine.version, old.version, engine.entry_count, diff(old.kb, engine.kb))

    def _disk_bytes_of(self, version: str) -> bytes | None:
        """The file's bytes if they are `version`, else None (nothing to keep)."""
        try:
            data = self._read_disk()
        except KnowledgeError:
            return None
        return data if content_version(data) == version else None

    def _read_disk(self) -> bytes:
        """The file's bytes; raises `KnowledgeError` when it is missing, too big or unreadable."""
        try:
            if self.path.stat().st_size > MAX_FILE_BYTES:
                raise KnowledgeError([Problem("file", f"is larger than {_size(MAX_FILE_BYTES)}")])
            return self.path.read_bytes()
        except FileNotFoundError:
            raise KnowledgeError([Problem(str(self.path), "file not found")]) from None
        except OSError as exc:
            raise KnowledgeError(
                [Problem(str(self.path), f"cannot be read ({exc.strerror})")]
            ) from None

    def _disk_version(self) -> str | None:
        try:
            return content_version(self.path.read_bytes())
        except OSError:
            return None

    def _new_id(self) -> str:
        while True:
            pid = secrets.token_urlsafe(6)
            if pid not in self._pending:
                return pid


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n} bytes"


# -- watching the file -----------------------------------------------------------------------

WATCH_SETTLE_S = 0.3
"""A changed file is read once its size and time have not moved for this long."""


async def settled(path: Path, quiet_s: float, *, at_most_s: float = 3.0) -> None:
    """Wait until a file stops changing: a save in several writes is read whole.

    The watcher's own grouping of events assumes the writer is never paused; on a busy
    machine an editor can be descheduled mid-save, and the half file would be reported.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + at_most_s
    last = _stamp(path)
    quiet_since = loop.time()
    while loop.time() < deadline:
        await asyncio.sleep(quiet_s / 4)
        now = _stamp(path)
        if now != last:
            last, quiet_since = now, loop.time()
        elif loop.time() - quiet_since >= quiet_s:
            return


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


ReloadHook = Callable[[ReloadResult], Awaitable[None]]


async def watch(
    library: Library,
    on_news: ReloadHook,
    *,
    stop: asyncio.Event,
    step_ms: int = WATCH_STEP_MS,
    debounce_ms: int = WATCH_DEBOUNCE_MS,
    retry_s: float = 1.0,
    settle_s: float = WATCH_SETTLE_S,
) -> None:
    """Reload whenever the knowledge file changes, until `stop` is set.

    The folder is watched rather than the file: an atomic save replaces the file (a new
    inode), and a deleted file must be noticed too. A burst of writes is one reload. Once
    watching, one reload catches up with changes made before the watcher started.
    """
    name = library.path.name

    def ours(_change: FileChange, changed: str) -> bool:
        return Path(changed).name == name

    while not stop.is_set():
        try:
            async for changes in awatch(
                library.path.parent,
                watch_filter=ours,
                stop_event=stop,
                step=step_ms,
                debounce=debounce_ms,
                rust_timeout=WATCH_TIMEOUT_MS,
                yield_on_timeout=True,
                recursive=False,
            ):
                if not library.watching.is_set():
                    library.watching.set()
                    changes = {(FileChange.modified, str(library.path))}  # catch up
                if not changes:
                    continue
                await settled(library.path, settle_s)
                try:
                    result = await asyncio.to_thread(library.reload)
                except Exception:  # a bug, not a bad file: keep watching, keep serving
                    log.exception("Reloading %s failed; still serving the last version", name)
                    continue
                if result.news:
                    await on_news(result)
        except asyncio.CancelledError:
            raise
        except Exception:  # the folder vanished, a watcher error: try again shortly
            log.warning("Watching %s failed; retrying", library.path.parent, exc_info=True)
            library.watching.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry_s)
    library.watching.clear()
