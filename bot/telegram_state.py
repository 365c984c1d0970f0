"""Small state the Telegram bot keeps: language preferences, question rate, pending actions.

None imports telegram: plain data with a clock, easy to test on their own.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, TypeVar

from bot.knowledge import Lang

log = logging.getLogger(__name__)

PREFS_FILE = "user_prefs.json"


class LanguagePrefs:
    """`/lang` choices, in a small JSON file written at each change so a restart keeps them.

    Writes are atomic (temporary file then rename): a crash leaves the old file or the new
    one, never half of one. A missing or unreadable file means "no preferences yet".
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._langs: dict[int, Lang] = self._load()

    def get(self, user_id: int) -> Lang | None:
        """The user's chosen language, if they chose one."""
        return self._langs.get(user_id)

    def set(self, user_id: int, lang: Lang) -> None:
        """Remember `lang` for the user, on disk at once."""
        if self._langs.get(user_id) == lang:
            return
        self._langs[user_id] = lang
        self._save()

    def __len__(self) -> int:
        return len(self._langs)

    def _load(self) -> dict[int, Lang]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable language preferences %s: %s", self.path, exc)
            return {}
        langs: dict[int, Lang] = {}
        entries = raw.get("lang", {}) if isinstance(raw, dict) else {}
        for key, value in entries.items() if isinstance(entries, dict) else ():
            if value in ("fr", "en") and str(key).lstrip("-").isdigit():
                langs[int(key)] = "fr" if value == "fr" else "en"
        return langs

    def _save(self) -> None:
        payload = {"version": 1, "lang": {str(k): v for k, v in sorted(self._langs.items())}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".prefs-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            # The choice still holds in memory; only a restart would forget it.
            log.warning("Could not save language preferences to %s: %s", self.path, exc)


Verdict = Literal["ok", "notify", "drop"]


class QuestionLimiter:
    """At most `limit` questions per user per `period` seconds (a sliding window).

    Over the limit, the first question gets "notify" (send one polite notice), the rest of
    that window "drop" (stay silent), so a flood never turns into a flood of notices.
    """

    def __init__(
        self, limit: int, period: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._notified: dict[int, float] = {}
        self._checks = 0

    def check(self, user_id: int) -> Verdict:
        """Count a question from `user_id` and say whether to answer it."""
        now = self._clock()
        self._checks += 1
        if self._checks % 1024 == 0:
            self._forget_idle(now)
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - self.period:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return "ok"
        last = self._notified.get(user_id)
        if last is None or now - last >= self.period:
            self._notified[user_id] = now
            return "notify"
        return "drop"

    def _forget_idle(self, now: float) -> None:
        """Drop users idle for a whole window, so memory follows active users only."""
        horizon = now - self.period
        for user_id in [u for u, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[user_id]
        for user_id in [u for u, at in self._notified.items() if at <= horizon]:
            del self._notified[user_id]


T = TypeVar("T")


class PendingActions(Generic[T]):
    """Actions behind buttons, kept server-side under a short random id.

    Telegram allows 64 bytes of callback data: a button carries the id, never the action
    (a question, an entry). The oldest are forgotten past `limit`; their buttons then expire.
    """

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self._items: OrderedDict[str, T] = OrderedDict()

    def add(self, item: T) -> str:
        """Keep `item`; returns its id (8 URL-safe characters)."""
        key = secrets.token_urlsafe(6)
        while key in self._items:
            key = secrets.token_urlsafe(6)
        self._items[key] = item
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class VariantAction:
    """An "add as a variant" button from /misses: this question, to this entry's variants."""

    entry: str
    lang: Lang
    question: str
