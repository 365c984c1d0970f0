"""The figures the reliability tests measured, kept for `python -m tests.report`.

Each test that proves something countable calls `record(section, **figures)`; the figures go
to `tests/.results/reliability.json` (ignored by git), one section per test, replaced by the
next run of that test. Nothing here decides whether a test passes.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / ".results"
RESULTS_FILE = RESULTS_DIR / "reliability.json"

Figures = dict[str, Any]


def load(path: Path = RESULTS_FILE) -> dict[str, Figures]:
    """Every recorded section, or nothing when no test wrote any yet (or the file is broken)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(section: str, **figures: Any) -> None:
    """Store `figures` as `section`, with the time they were measured; atomic on disk."""
    path = Path(os.environ.get("RELIABILITY_RESULTS", RESULTS_FILE))
    data = load(path)
    data[section] = {**figures, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".reliability-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.replace(tmp, path)


def scale(default: int, env: str) -> int:
    """A count tests use by default, overridable from the environment (`make soak`)."""
    raw = os.environ.get(env, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default
