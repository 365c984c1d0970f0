"""Small measuring tools shared by the benchmarks: percentiles, memory, the machine.

Kept free of the bot's imports so a cold process can use them without skewing what it measures.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Latency:
    """Per-call times in milliseconds; `n` says how much the percentiles can be trusted."""

    n: int
    p50: float
    p99: float
    mean: float
    max: float
    per_second: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        if not seconds:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        ms = sorted(s * 1000 for s in seconds)
        total = sum(seconds)
        return cls(
            n=len(ms),
            p50=percentile(ms, 50),
            p99=percentile(ms, 99),
            mean=sum(ms) / len(ms),
            max=ms[-1],
            per_second=len(ms) / total if total > 0 else float("inf"),
        )


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile: an observed value, never an interpolation between two."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def ratio(ours: float, base: float) -> float:
    """ours / base, NaN when either is missing (a figure too slow to measure here)."""
    if not (base > 0 and math.isfinite(base) and math.isfinite(ours)):
        return float("nan")
    return ours / base


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory now."""
    fields = Path(f"/proc/{pid}/statm").read_text().split()
    return int(fields[1]) * PAGE


def peak_rss_bytes(pid: int | str = "self") -> int:
    """The process's peak resident memory (VmHWM), which the kernel keeps for us."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc status")


def deep_size(root: object) -> int:
    """Bytes held by an object graph, each object counted once (shared strings too).

    Exact where tracemalloc would slow the build being measured, and unlike an RSS delta it
    does not count the allocator's leftovers.
    """
    seen: set[int] = set()
    stack: list[object] = [root]
    total = 0
    getsizeof = sys.getsizeof
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        total += getsizeof(obj)
        if isinstance(obj, str | int | float | bool | bytes) or obj is None:
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif dataclasses.is_dataclass(obj):
            stack.extend(getattr(obj, f.name) for f in dataclasses.fields(obj))
            if hasattr(obj, "__dict__"):
                total += getsizeof(obj.__dict__)
    return total


class Timeout(Exception):
    """A measured call ran past its guard."""


@contextmanager
def guard(seconds: float) -> Iterator[None]:
    """Interrupt the enclosed code after `seconds` (main thread only, via SIGALRM)."""

    def fire(signum: int, frame: FrameType | None) -> None:
        raise Timeout

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call took, and what it returned."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def machine() -> dict[str, str]:
    """What the figures were measured on: they only compare within one machine and run."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "load average at start": load,
    }
