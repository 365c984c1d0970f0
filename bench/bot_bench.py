"""The bot end to end: throughput, handling latency, memory and start-up, on loopback only.

The bot runs as in production, `python -m bot run` in its own process (so its memory is its
own and it has a core to itself), against the fake Bot API server of the Telegram tests,
which runs here. Nothing can reach Telegram: the server listens on 127.0.0.1 and the bot's
base URL points at it; the bot's environment is built from scratch (no .env, no proxy).

The shipped rate limiter caps every bot at Telegram's 30 messages a second, so capacity is
measured through `bench.uncapped_bot` (the same `python -m bot run`, that cap lifted); a short
run as shipped shows the cap. Each phase runs against our bot and against the echo bot
(`bench.echo_bot`: the same library and settings, replying "ok" with no engine), so every
figure has a same-run ratio:
- throughput: 2,000 questions from 200 users, each user sending its next question as soon as
  it gets the answer to the last (200 in flight; latency here includes queueing);
- handling latency: 1,000 questions from 1,000 other users at a steady rate under capacity
  (100/s, or half of what our bot sustained), injected to reply and delivered to reply;
- the same throughput with the question log off (an unusable DATABASE_URL);
- peak RSS of the bot process (VmHWM), with the shipped knowledge and the 10,000-entry base;
- start-up: `python -m bot ask "..."` from a cold process, against `python -c pass`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.measure import Latency, peak_rss_bytes, rss_bytes
from tests.telegram.fake_bot_api import Call, FakeBotApi, user

ROOT = synthetic.ROOT
TOKEN = "987654321:AAFake-Token_For_Bench_0123456789xyz"
"""Shaped like a real token so the bot's format check passes; it is not one."""
USERS = 200
QUESTIONS = 2_000
PACED = 1_000
PACED_RATE = 100.0
WARMUP = 100
CAPPED = 300
"""Questions for the as-shipped run, which only shows the 30/s cap (10 s)."""
STARTUP_RUNS = 7
STARTUP_QUESTION = "Combien a coûté l'entraînement de GPT-4 ?"
PHASE_TIMEOUT = 120.0
READY_TIMEOUT = 180.0
TICK = os.sysconf("SC_CLK_TCK")

TARGET_UPDATES_PER_S = 300.0
TARGET_P99_MS = 20.0
TARGET_RSS_MB = 120.0
TARGET_STARTUP_S = 1.0

Progress = Callable[[str], None]


class BenchApi(FakeBotApi):
    """The tests' fake server, telling the driver about every message the bot sends."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.on_send: Callable[[int, float], None] | None = None
        self.polled = asyncio.Event()
        self.delivered: dict[int, float] = {}
        """When each update left in a getUpdates answer, by update_id."""

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        self.polled.set()  # when the poll arrives, not when it ends (10 s later if idle)
        return await super()._api_getUpdates(params)

    def _record(self, method: str, params: dict[str, Any], status: int, result: Any = None) -> Call:
        call = super()._record(method, params, status, result)
        if method == "sendMessage" and status == 200 and self.on_send is not None:
            self.on_send(int(params["chat_id"]), call.at)
        elif method == "getUpdates" and isinstance(result, list):
            for update in result:
                self.delivered.setdefault(int(update["update_id"]), call.at)
        return call


@dataclass(frozen=True)
class Phase:
    """One load phase: how many replies, how fast, and what it cost the bot in CPU."""

    rate: float | None
    """The steady rate questions were sent at; None for a closed loop."""
    questions: int
    replies: int
    extra_messages: int
    seconds: float
    latency: Latency
    """Update injected (queued for getUpdates) to sendMessage received."""
    handling: Latency
    """Update delivered in a getUpdates answer to sendMessage received: the bot's own part."""
    bot_cpu_s: float
    server_cpu_s: float

    @property
    def per_second(self) -> float:
        return self.replies / self.seconds if self.seconds > 0 else float("nan")

    @property
    def cpu_ms_per_update(self) -> float:
        return 1000 * self.bot_cpu_s / self.replies if self.replies else float("nan")


@dataclass(frozen=True)
class BotRun:
    """Every figure of one bot process (ours or the echo baseline)."""

    name: str
    knowledge_entries: int
    ready_s: float
    throughput: Phase | None
    paced: Phase | None
    peak_rss_bytes: int
    rss_bytes: int
    exit_code: int | None


@dataclass(frozen=True)
class Startup:
    """Cold start of `python -m bot ask` against `python -c pass`."""

    runs: int
    baseline_s: list[float]
    ask_s: list[float]
    baseline_cpu_s: list[float]
    ask_cpu_s: list[float]
    baseline_rss_bytes: int
    ask_rss_bytes: int
    """Peak RSS of the same steps as `ask` (`bench.startup_anatomy` reads its own VmHWM)."""
    telegram_imported: bool
    slowest_imports: list[tuple[str, float]]
    phases: dict[str, float]
    """`bench.startup_anatomy`: the same steps as `ask`, timed one by one in a cold process."""

    @property
    def ask_median(self) -> float:
        return statistics.median(self.ask_s)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline_s)


@dataclass(frozen=True)
class BotResults:
    ours: BotRun
    echo: BotRun
    shipped_cap: BotRun
    no_log: BotRun
    ours_10k: BotRun | None
    startup: Startup


# -- processes -------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment: no proxy, no stray TELEGRAM_* or WEBHOOK_* from the shell."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.update(
        PYTHONPATH=str(ROOT),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class _Driver:
    """Sends questions as users and matches each reply to the question it answers.

    A private chat carries no quote, so replies are matched per chat, in order; each user has
    one question in flight at a time, which makes that exact (extra message parts of a long
    reply are counted apart, and reported).
    """

    api: BenchApi
    sent_at: dict[int, deque[tuple[float, int]]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    handling: list[float] = field(default_factory=list)
    extra: int = 0
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last_reply: float = 0.0
    next_for: Callable[[int], None] | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api.on_send = self._on_send

    def ask(self, who: dict[str, Any], text: str) -> None:
        sent = time.monotonic()
        update_id = self.api.say(who, text)
        self.sent_at.setdefault(int(who["id"]), deque()).append((sent, update_id))

    def _on_send(self, chat_id: int, at: float) -> None:
        waiting = self.sent_at.get(chat_id)
        if not waiting:
            self.extra += 1
            return
        sent, update_id = waiting.popleft()
        self.latencies.append(at - sent)
        self.handling.append(at - self.api.delivered.get(update_id, sent))
        self.last_reply = at
        if self.next_for is not None:
            self.next_for(chat_id)
        if len(self.latencies) >= self.expected:
            self.done.set()


async def _phase(
    api: BenchApi,
    pid: int,
    start: Callable[[_Driver], None],
    expected: int,
    rate: float | None = None,
) -> Phase:
    driver = _Driver(api, expected=expected)
    cpu0, server0, t0 = cpu_seconds(pid), time.process_time(), time.monotonic()
    start(driver)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(driver.done.wait(), PHASE_TIMEOUT)
    end = driver.last_reply or time.monotonic()
    cpu1, server1 = cpu_seconds(pid), time.process_time()
    await asyncio.sleep(0.3)  # late parts of long replies
    api.on_send = None
    return Phase(
        rate=rate,
        questions=expected,
        replies=len(driver.latencies),
        extra_messages=driver.extra,
        seconds=end - t0,
        latency=Latency.of(driver.latencies),
        handling=Latency.of(driver.handling),
        bot_cpu_s=cpu1 - cpu0,
        server_cpu_s=server1 - server0,
    )


def paced_rate_for(capacity: Phase) -> float:
    """A steady rate well under what the bot sustained: handling time, not queueing.

    PACED_RATE (100/s, a third of the target) unless the bot sustained less than twice that;
    then half of what it sustained.
    """
    return max(5.0, min(PACED_RATE, capacity.per_second / 2))


async def closed_loop(
    api: BenchApi, pid: int, users: Sequence[dict[str, Any]], texts: Sequence[str]
) -> Phase:
    """Every user asks its share of `texts` one after the other, as fast as answers come."""
    queues = {int(u["id"]): deque(texts[i :: len(users)]) for i, u in enumerate(users)}
    by_id = {int(u["id"]): u for u in users}

    def start(driver: _Driver) -> None:
        def next_for(chat_id: int) -> None:
            queue = queues.get(chat_id)
            if queue:
                driver.ask(by_id[chat_id], queue.popleft())

        driver.next_for = next_for
        for chat_id in list(queues):
            next_for(chat_id)

    return await _phase(api, pid, start, len(texts))


async def paced(
    api: BenchApi, pid: int, users: Sequence[dict[str, Any]], texts: Sequence[str], rate: float
) -> Phase:
    """One question per user, sent at a steady `rate` whatever the answers do."""

    def start(driver: _Driver) -> None:
        async def send_all() -> None:
            t0 = time.monotonic()
            for i, (who, text) in enumerate(zip(users, texts, strict=True)):
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                driver.ask(who, text)

        driver.tasks.append(asyncio.get_running_loop().create_task(send_all()))

    return await _phase(api, pid, start, len(texts), rate)


def _users(first_id: int, count: int) -> list[dict[str, Any]]:
    return [user(first_id + i, f"User{i}", "fr" if i % 2 == 0 else "en") for i in range(count)]


async def run_bot(
    name: str,
    command: Sequence[str],
    texts: Sequence[str],
    entries: int,
    *,
    users: int = USERS,
    paced_texts: Sequence[str] = (),
    paced_rate: float | None = None,
    warmup: int = WARMUP,
    progress: Progress = print,
    env: dict[str, str] | None = None,
) -> BotRun:
    """Start one bot process against a fresh fake server, load it, measure it, stop it."""
    api = BenchApi(TOKEN)
    await api.start()
    assert api.base_url.startswith("http://127.0.0.1:"), api.base_url
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp:
        settings = {
            "DATA_DIR": str(Path(tmp) / "data"),
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/data/questions.db",
            "LOG_LEVEL": "INFO",
            **(env or {}),
        }
        proc_env = clean_env(
            **settings,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=api.base_url,
            TELEGRAM_API_BASE_FILE_URL=api.base_file_url,
        )
        log_path = Path(tmp) / "bot.log"
        with log_path.open("wb") as log:
            t0 = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, *command], cwd=tmp, env=proc_env, stdout=log, stderr=log
            )
            try:
                return await _drive(
                    name,
                    api,
                    proc,
                    t0,
                    texts,
                    entries,
                    users,
                    paced_texts,
                    paced_rate,
                    warmup,
                    progress,
                )
            except BaseException:
                sys.stderr.write(log_path.read_text(errors="replace")[-3000:])
                raise
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                await api.stop()


async def _drive(
    name: str,
    api: BenchApi,
    proc: subprocess.Popen[bytes],
    t0: float,
    texts: Sequence[str],
    entries: int,
    users: int,
    paced_texts: Sequence[str],
    paced_rate: float | None,
    warmup: int,
    progress: Progress,
) -> BotRun:
    progress(f"[bot] {name}: starting")
    deadline = time.monotonic() + READY_TIMEOUT
    while not api.polled.is_set():
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} before polling")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not poll within {READY_TIMEOUT:.0f} s")
        await asyncio.sleep(0.01)
    ready_s = time.monotonic() - t0
    pid = proc.pid
    if warmup:
        await closed_loop(api, pid, _users(1_000_000, 20), list(texts[:warmup]))
    progress(f"[bot] {name}: {len(texts)} questions from {users} users")
    throughput = await closed_loop(api, pid, _users(2_000_000, users), texts)
    paced_phase = None
    if paced_texts:
        rate = paced_rate or paced_rate_for(throughput)
        progress(f"[bot] {name}: {len(paced_texts)} questions at {rate:.0f}/s")
        paced_phase = await paced(api, pid, _users(3_000_000, len(paced_texts)), paced_texts, rate)
    peak, now = peak_rss_bytes(pid), rss_bytes(pid)
    proc.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.to_thread(proc.wait, 15)
    except subprocess.TimeoutExpired:
        code = None
    return BotRun(name, entries, ready_s, throughput, paced_phase, peak, now, code)


# -- start-up --------------------------------------------------------------------------------


def _cold(argv: Sequence[str], *, stdout: bool = False) -> tuple[float, float, bytes]:
    """Wall time, CPU time (user + system) and stderr (or stdout) of one fresh process.

    CPU time is what the process itself cost, whatever else the shared machine was doing.
    (Its ru_maxrss is useless here: Linux counts the parent's pages at fork time.)
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *argv],
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if stdout else subprocess.PIPE,
    )
    stream = proc.stdout if stdout else proc.stderr
    assert stream is not None
    err = stream.read()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} failed: {err.decode(errors='replace')[-2000:]}")
    return took, usage.ru_utime + usage.ru_stime, err


_PRINT_PEAK = (
    "import re; print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])"
    " * 1024)"
)
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def startup(runs: int = STARTUP_RUNS, progress: Progress = print) -> Startup:
    """Cold starts, alternated so drift hits both alike; then one run with -X importtime."""
    progress(f"[bot] start-up: {runs} cold runs each")
    ask = ["-m", "bot", "ask", STARTUP_QUESTION]
    base_s: list[float] = []
    ask_s: list[float] = []
    base_cpu: list[float] = []
    ask_cpu: list[float] = []
    for _ in range(runs):
        took, cpu, _ = _cold(["-c", "pass"])
        base_s.append(took)
        base_cpu.append(cpu)
        took, cpu, _ = _cold(ask)
        ask_s.append(took)
        ask_cpu.append(cpu)
    _, _, out = _cold(["-c", _PRINT_PEAK], stdout=True)
    base_rss = int(out)
    _, _, out = _cold(["-m", "bench.startup_anatomy"], stdout=True)
    phases = {k: float(v) for k, v in json.loads(out).items()}
    ask_rss = int(phases.pop("peak RSS bytes"))
    _, _, err = _cold(["-X", "importtime", *ask])
    imports: list[tuple[str, float]] = []
    telegram = False
    for line in err.decode(errors="replace").splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        module = match.group(4)
        telegram = telegram or module == "telegram" or module.startswith("telegram.")
        if len(match.group(3)) == 1:  # top level: imported by the program itself
            imports.append((module, int(match.group(2)) / 1e6))
    imports.sort(key=lambda item: item[1], reverse=True)
    return Startup(
        runs, base_s, ask_s, base_cpu, ask_cpu, base_rss, ask_rss, telegram, imports[:8], phases
    )


# -- everything ------------------------------------------------------------------------------


def question_texts(count: int) -> list[str]:
    """`count` questions cycling through the fixed set (its order is already shuffled)."""
    qs = [q.text for q in synthetic.questions()]
    return [qs[i % len(qs)] for i in range(count)]


def answerable_texts(size: int, count: int) -> list[str]:
    """Question variants of the synthetic base exactly as written: a large base answers them
    without falling back (a fallback lists every topic, which costs seconds at this size)."""
    entries = synthetic.knowledge_data(size)["entries"]
    step = max(1, len(entries) // count)
    return [entries[i * step]["questions"]["fr" if i % 2 else "en"][i % 6] for i in range(count)]


async def run_all(progress: Progress = print, *, with_10k: bool = True) -> BotResults:
    """Every bot figure; a few minutes here, most of it the 10,000-entry bot loading its file."""
    texts = question_texts(QUESTIONS)
    paced_texts = question_texts(QUESTIONS + PACED)[QUESTIONS:]
    shipped = len(synthetic.shipped().entries)
    ours = await run_bot(
        "ours",
        ["-m", "bench.uncapped_bot", "run"],
        texts,
        shipped,
        paced_texts=paced_texts,
        progress=progress,
    )
    rate = ours.paced.rate if ours.paced is not None else None
    echo = await run_bot(
        "echo",
        ["-m", "bench.echo_bot"],
        texts,
        0,
        paced_texts=paced_texts,
        paced_rate=rate,
        progress=progress,
        env={"BENCH_UNCAPPED": "1"},
    )
    capped = await run_bot(
        "ours as shipped (30/s cap)",
        ["-m", "bot", "run"],
        texts[:CAPPED],
        shipped,
        users=CAPPED // 10,
        warmup=0,
        progress=progress,
    )
    no_log = await run_bot(
        "ours, question log off",
        ["-m", "bench.uncapped_bot", "run"],
        texts,
        shipped,
        progress=progress,
        env={"DATABASE_URL": "unusable://question-log-off"},
    )
    if not with_10k:
        return BotResults(ours, echo, capped, no_log, None, startup(progress=progress))
    progress("[bot] writing the 10,000-entry knowledge file")
    path = synthetic.knowledge_file(10_000)
    ours_10k = await run_bot(
        "ours, 10,000 entries",
        ["-m", "bench.uncapped_bot", "run", "--knowledge", str(path)],
        answerable_texts(10_000, 400),
        10_000,
        users=40,
        warmup=0,
        progress=progress,
    )
    return BotResults(ours, echo, capped, no_log, ours_10k, startup(progress=progress))


def summary(results: BotResults) -> str:
    lines = []
    runs = [results.ours, results.echo, results.shipped_cap, results.no_log, results.ours_10k]
    for run in (r for r in runs if r is not None):
        lines.append(
            f"{run.name}: ready {run.ready_s:.2f} s, peak RSS {run.peak_rss_bytes / 2**20:.1f} MB"
        )
        for label, phase in (("throughput", run.throughput), ("paced", run.paced)):
            if phase is not None:
                lines.append(
                    f"  {label}: {phase.replies}/{phase.questions} replies, "
                    f"{phase.per_second:.0f}/s, p50 {phase.latency.p50:.1f} ms, "
                    f"p99 {phase.latency.p99:.1f} ms, bot CPU {phase.cpu_ms_per_update:.2f} "
                    f"ms/update, server CPU {phase.server_cpu_s:.1f} s, "
                    f"extra parts {phase.extra_messages}"
                )
    s = results.startup
    lines.append(
        f"start-up: ask {s.ask_median:.3f} s vs pass {s.baseline_median:.3f} s, "
        f"telegram imported: {s.telegram_imported}, slowest: {s.slowest_imports[:4]}"
    )
    lines.extend(f"  {name}: {took:.3f} s" for name, took in s.phases.items())
    return "\n".join(lines)


def main() -> int:
    results = asyncio.run(run_all(lambda m: print(m, file=sys.stderr, flush=True)))
    print(summary(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
