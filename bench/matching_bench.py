"""Matching speed and memory at the shipped size and at 1,000 / 10,000 / 50,000 entries.

Every size is measured side by side, in the same process and run, against:
- the floor (issue 5): `rapidfuzz.process.extractOne(q, raw_variants, processor=default_process)`,
  what the library alone costs with its defaults (WRatio over every variant);
- the scan floor: `extractOne` with the cheapest scorer (`fuzz.ratio`) over variants
  normalized once in advance, the fastest any "score every variant" design can be;
- the naive loop: `difflib.SequenceMatcher` over every variant, what many FAQ bots do.

Scans cost seconds per question at 50,000 entries, so they get a time budget: questions are
taken in the fixed (shuffled) order until the budget is spent, and ratios compare ours with
them on exactly those questions. When even one naive question would blow the budget, the loop
runs over every k-th variant and its time is multiplied by k (it is linear, with no early exit),
and the result says so.

`python -m bench.matching_bench --sizes 0,1000` runs a subset (0 is the shipped file);
`--profile 50000` prints where `search` spends its time at that size.
"""

from __future__ import annotations

import argparse
import cProfile
import difflib
import functools
import gc
import io
import math
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process, utils

from bench import synthetic
from bench.measure import (
    Latency,
    Timeout,
    deep_size,
    guard,
    percentile,
    ratio,
    rss_bytes,
    timed,
)
from bot import matching
from bot.answers import Engine
from bot.knowledge import KnowledgeBase

SIZES = (0, *synthetic.SIZES)
"""0 stands for the shipped knowledge file."""
WARMUP = 20
ROUNDS = 3
FLOOR_BUDGET = 6.0
SCAN_BUDGET = 4.0
NAIVE_BUDGET = 6.0
ASK_BUDGET = 5.0
ASK_GUARD = 10.0
"""Longest one `Engine.ask` may take before it is reported as "over this"."""
MIN_SAMPLES = 3

TARGET_P99_1K_MS = 2.0
TARGET_P99_50K_MS = 25.0
TARGET_FLOOR_RATIO_10K = 3.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Scan:
    """A baseline's latency, the questions it was measured on, and how."""

    latency: Latency
    questions: tuple[int, ...]
    top1: float
    top1_n: int
    note: str = ""


@dataclass(frozen=True)
class ProfileLine:
    """One function's share of `search` time under cProfile."""

    function: str
    calls: int
    own_s: float
    cumulative_s: float
    share: float
    """Own time / total profiled time."""


@dataclass(frozen=True)
class SizeResult:
    """Every matching figure for one knowledge base size."""

    label: str
    entries: int
    variants: int
    vocabulary: int
    build_s: float
    index_bytes: int
    raw_bytes: int
    rss_delta_bytes: int
    ours: Latency
    """Per question, the median of ROUNDS runs."""
    ours_raw: Latency
    """Every run of every question."""
    ours_first: Latency
    """The first round alone, `resolve`'s per-index cache emptied before it: each unknown
    word costs its vocabulary scan the first time the run meets it."""
    ours_top1: float
    ours_top1_n: int
    floor: Scan
    scan: Scan
    naive: Scan
    ask: Latency
    ask_out: Latency
    ask_out_note: str
    ours_by_kind: dict[str, Latency] = field(default_factory=dict)
    ours_seconds: tuple[float, ...] = ()
    profile: list[ProfileLine] = field(default_factory=list)
    """Where `search` spends its time at this size (functions of bot/, by own time)."""

    def paired(self, base: Scan, p: float) -> float:
        """Ours / a baseline at percentile `p`, on the questions the baseline was timed on."""
        mine = sorted(self.ours_seconds[i] * 1000 for i in base.questions)
        theirs = base.latency.p50 if p == 50 else base.latency.p99
        return ratio(percentile(mine, p), theirs) if mine else float("nan")


def label(size: int) -> str:
    return "shipped" if size == 0 else f"{size:,}"


def knowledge(size: int) -> KnowledgeBase:
    return synthetic.shipped() if size == 0 else synthetic.synthetic_kb(size)


def _top1(hits: list[tuple[str | None, str | None]]) -> tuple[float, int]:
    """Share of labelled questions whose best hit is the expected entry."""
    scored = [(got, want) for got, want in hits if want is not None]
    if not scored:
        return float("nan"), 0
    return sum(got == want for got, want in scored) / len(scored), len(scored)


def _budgeted(
    run_one: Callable[[int], tuple[float, str | None]],
    count: int,
    budget: float,
    expect: Sequence[str | None],
    note: str = "",
    scale: float = 1.0,
) -> Scan:
    """Time questions 0, 1, 2... until `budget` seconds are spent (at least MIN_SAMPLES)."""
    seconds: list[float] = []
    hits: list[tuple[str | None, str | None]] = []
    spent = 0.0
    for i in range(count):
        if spent >= budget and len(seconds) >= MIN_SAMPLES:
            break
        took, got = run_one(i)
        spent += took
        seconds.append(took * scale)
        hits.append((got, expect[i]))
    top1, top1_n = _top1(hits) if scale == 1.0 else (float("nan"), 0)
    return Scan(Latency.of(seconds), tuple(range(len(seconds))), top1, top1_n, note)


def measure_size(size: int, progress: Progress = print) -> SizeResult:
    """Build the index for one size, then time ours and every baseline on the fixed questions."""
    name = label(size)
    progress(f"[matching] {name}: generating the knowledge base")
    kb = knowledge(size)
    known = {e.id for e in kb.entries}
    qs = synthetic.questions()
    texts = [q.text for q in qs]
    expect = [q.expect if q.expect in known else None for q in qs]

    progress(f"[matching] {name}: building the index ({len(kb.entries):,} entries)")
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    engine = Engine.from_knowledge(kb)
    build_s = time.perf_counter() - start
    gc.collect()
    rss_delta = rss_bytes() - before
    index = engine.index
    raw, owners = synthetic.variant_strings(kb)
    index_bytes = deep_size(index)
    raw_bytes = deep_size(raw)

    progress(f"[matching] {name}: timing ours on {len(texts)} questions, {ROUNDS} rounds")
    for text in texts[:WARMUP]:
        matching.search(text, index)
    index.resolved.clear()  # round 1 meets every unknown word for the first time
    gc.collect()
    rounds: list[list[float]] = []
    hits: list[tuple[str | None, str | None]] = []
    for _ in range(ROUNDS):
        this_round: list[float] = []
        for text, want in zip(texts, expect, strict=True):
            t0 = time.perf_counter()
            found = matching.search(text, index)
            this_round.append(time.perf_counter() - t0)
            if not rounds:
                hits.append((found[0].key if found else None, want))
        rounds.append(this_round)
    # A question's time is its median over the rounds: a pause caused by another process on
    # this shared machine rarely hits the same question twice; a question that is slow every
    # time stays slow. Every sample counts in `ours_raw`.
    ours_s = [statistics.median(samples) for samples in zip(*rounds, strict=True)]
    ours_top1, ours_top1_n = _top1(hits)
    by_kind: dict[str, list[float]] = {}
    for q, took in zip(qs, ours_s, strict=True):
        by_kind.setdefault(q.kind, []).append(took)

    progress(f"[matching] {name}: floor (extractOne, WRatio, default_process)")

    def floor_one(i: int) -> tuple[float, str | None]:
        t0 = time.perf_counter()
        hit = process.extractOne(texts[i], raw, processor=utils.default_process)
        took = time.perf_counter() - t0
        return took, owners[hit[2]] if hit is not None else None

    floor = _budgeted(floor_one, len(texts), FLOOR_BUDGET, expect)

    progress(f"[matching] {name}: scan floor (extractOne, ratio, normalized once)")
    processed = [utils.default_process(t) for t in raw]

    def scan_one(i: int) -> tuple[float, str | None]:
        t0 = time.perf_counter()
        hit = process.extractOne(
            utils.default_process(texts[i]), processed, scorer=fuzz.ratio, processor=None
        )
        took = time.perf_counter() - t0
        return took, owners[hit[2]] if hit is not None else None

    scan = _budgeted(scan_one, len(texts), SCAN_BUDGET, expect)

    progress(f"[matching] {name}: naive difflib loop")
    naive = _naive(texts, raw, owners, expect)

    progress(f"[matching] {name}: Engine.ask (whole reply)")
    ask, ask_out, ask_out_note = _ask(engine, qs)

    progress(f"[matching] {name}: profiling search")
    profile = _profile(index, texts)

    return SizeResult(
        label=name,
        entries=len(kb.entries),
        variants=len(raw),
        vocabulary=len(index.idf),
        build_s=build_s,
        index_bytes=index_bytes,
        raw_bytes=raw_bytes,
        rss_delta_bytes=rss_delta,
        ours=Latency.of(ours_s),
        ours_raw=Latency.of([t for samples in rounds for t in samples]),
        ours_first=Latency.of(rounds[0]),
        ours_top1=ours_top1,
        ours_top1_n=ours_top1_n,
        floor=floor,
        scan=scan,
        naive=naive,
        ask=ask,
        ask_out=ask_out,
        ask_out_note=ask_out_note,
        ours_by_kind={kind: Latency.of(s) for kind, s in sorted(by_kind.items())},
        ours_seconds=tuple(ours_s),
        profile=profile,
    )


def _naive_best(question: str, choices: Sequence[str]) -> int:
    """The FAQ-bot classic: the variant with the best SequenceMatcher ratio, lower-cased."""
    q = question.lower()
    best, best_i = -1.0, -1
    for i, choice in enumerate(choices):
        score = difflib.SequenceMatcher(None, q, choice).ratio()
        if score > best:
            best, best_i = score, i
    return best_i


def _naive(
    texts: Sequence[str], raw: Sequence[str], owners: Sequence[str], expect: Sequence[str | None]
) -> Scan:
    lowered = [t.lower() for t in raw]
    probe = lowered[:2000]
    t0 = time.perf_counter()
    _naive_best(texts[0], probe)
    per_choice = (time.perf_counter() - t0) / len(probe)
    one_question = per_choice * len(lowered)
    stride = max(1, math.ceil(one_question / (NAIVE_BUDGET / MIN_SAMPLES)))
    choices = lowered[::stride]

    def naive_one(i: int) -> tuple[float, str | None]:
        t1 = time.perf_counter()
        best = _naive_best(texts[i], choices)
        took = time.perf_counter() - t1
        return took, owners[best * stride] if best >= 0 else None

    note = "" if stride == 1 else f"1 variant in {stride}, time ×{stride}"
    return _budgeted(naive_one, len(texts), NAIVE_BUDGET, expect, note, scale=float(stride))


def _ask(engine: Engine, qs: Sequence[synthetic.Question]) -> tuple[Latency, Latency, str]:
    """`Engine.ask` end to end, fallbacks apart: a fallback lists topics, which cost more than
    an answer's matching once there are many. `judge` (untimed) says which is which."""
    replies: list[float] = []
    fallbacks: list[str] = []
    spent = 0.0
    for q in qs:
        if engine.judge(q.text)[0] == "fallback":
            fallbacks.append(q.text)
        elif spent < ASK_BUDGET:
            took, _ = timed(functools.partial(engine.ask, q.text))
            spent += took
            replies.append(took)
    slow: list[float] = []
    note = ""
    spent = 0.0
    for text in fallbacks:
        if spent >= ASK_BUDGET and slow:
            break
        t0 = time.perf_counter()
        try:
            with guard(ASK_GUARD):
                engine.ask(text)
        except Timeout:
            note = f"a fallback took over {ASK_GUARD:.0f} s; stopped there"
            break
        slow.append(time.perf_counter() - t0)
        spent += slow[-1]
    return Latency.of(replies), Latency.of(slow), note


def _profiled(index: matching.Index, texts: Sequence[str]) -> cProfile.Profile:
    profiler = cProfile.Profile()
    profiler.enable()
    for text in texts:
        matching.search(text, index)
    profiler.disable()
    return profiler


def _profile(index: matching.Index, texts: Sequence[str], top: int = 12) -> list[ProfileLine]:
    """The costliest functions by own time, each line a function of bot/ or a builtin it calls.

    cProfile charges time spent inside rapidfuzz's compiled code to the Python function that
    called it (`resolve`, the similarity generator), which is what we want to know.
    """
    stats = pstats.Stats(_profiled(index, texts))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in raw.values()) or 1.0
    lines = []
    for (path, line, func), (_, calls, own, cum, _) in raw.items():
        where = f"{Path(path).name}:{line} {func}" if line else func
        lines.append(ProfileLine(where, calls, own, cum, own / total))
    lines.sort(key=lambda p: p.own_s, reverse=True)
    return lines[:top]


def profile_search(size: int, top: int = 25) -> str:
    """cProfile of `search` over the whole question set at one size, as pstats prints it."""
    kb = knowledge(size)
    index = Engine.from_knowledge(kb).index
    texts = [q.text for q in synthetic.questions()]
    for text in texts[:WARMUP]:
        matching.search(text, index)
    profiler = _profiled(index, texts)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    out.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def run(sizes: Sequence[int] = SIZES, progress: Progress = print) -> list[SizeResult]:
    """Measure every size in turn; each size's objects are freed before the next one."""
    results = []
    for size in sizes:
        results.append(measure_size(size, progress))
        gc.collect()
    return results


def table(results: Sequence[SizeResult]) -> str:
    """A plain-text summary, for the console."""
    lines = [
        f"{'size':>9} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'q/s':>7} "
        f"{'floor p50':>10} {'ours/floor':>10} {'scan p50':>9} {'naive p50':>10} {'index MB':>9}"
    ]
    for r in results:
        lines.append(
            f"{r.label:>9} {r.build_s:8.2f} {r.ours.p50:8.3f} {r.ours.p99:8.3f} "
            f"{r.ours.per_second:7.0f} {r.floor.latency.p50:10.2f} "
            f"{r.paired(r.floor, 50):10.4f} {r.scan.latency.p50:9.2f} "
            f"{r.naive.latency.p50:10.1f} {r.index_bytes / 2**20:9.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matching_bench")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--profile", type=int, metavar="SIZE")
    args = parser.parse_args(argv)
    if args.profile is not None:
        print(profile_search(args.profile))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    results = run(sizes, lambda m: print(m, file=sys.stderr, flush=True))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
