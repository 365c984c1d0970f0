"""The index kept on disk between runs: building it is most of what a cold `python -m bot ask`
costs, and the knowledge file rarely changes from one run to the next.

The cached index is keyed by the knowledge file's content and by the code that builds an index
(its source and the Python version): a change to either builds it again. A missing, stale,
corrupt or unwritable cache costs only the build; it never changes a reply.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import answers, knowledge, matching
from bot.answers import Engine
from bot.knowledge import load_knowledge

CACHE_NAME = "index-cache.json"
FORMAT = 1
"""Raised when what is stored changes shape."""

log = logging.getLogger(__name__)


def load_engine(path: Path, cache_dir: Path) -> Engine:
    """`Engine.from_path`, with the index read from `cache_dir` when the same code built it
    from the same file, and written there otherwise. Raises `KnowledgeError` as it does."""
    kb = load_knowledge(path)
    key = f"{_code_version()} {kb.version}"
    file = cache_dir / CACHE_NAME
    stored = _read(file, key)
    if stored is not None:
        try:
            return Engine.from_knowledge(kb, path, index_data=stored)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            log.warning("The cached index %s is unusable (%s); building it again", file, exc)
    engine = Engine.from_knowledge(kb, path)
    _write(file, key, engine.index)
    return engine


def _code_version() -> str:
    digest = hashlib.sha256(f"{FORMAT} {sys.version}".encode())
    for module in (knowledge, matching, answers):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


def _read(file: Path, key: str) -> Mapping[str, Any] | None:
    try:
        with file.open(encoding="utf-8") as f:
            stored = json.load(f)
    except (OSError, ValueError):
        return None  # none yet, unreadable, or cut short: build it again
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    index = stored.get("index")
    return index if isinstance(index, dict) else None


def _write(file: Path, key: str, index: matching.Index) -> None:
    """Atomically (a reader sees the old cache or the new one), and never an error: a read-only
    or full disk only means the next run builds the index again."""
    tmp = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".index-cache-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"key": key, "index": matching.index_to_json(index)}, f, ensure_ascii=False)
        os.replace(tmp, file)
        tmp = None
    except OSError as exc:
        log.info("Could not keep the index in %s: %s", file, exc)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
