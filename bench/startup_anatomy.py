"""Where a cold `python -m bot ask` spends its time, phase by phase, printed as JSON.

Run in a fresh process by `bench.bot_bench`; it imports nothing of its own before timing.
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402


def main() -> int:
    """Time the phases `python -m bot ask` goes through, in the order it goes through them."""
    marks: dict[str, float] = {}
    last = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        marks[name] = now - last
        last = now

    from bot.cli import build_parser  # noqa: F401  (what `python -m bot` imports first)

    mark("import bot.cli (pydantic, ruamel, rapidfuzz, the engine)")
    from bot.settings import Settings

    settings = Settings()
    mark("read settings")
    from bot.knowledge import load_knowledge

    kb = load_knowledge(sys.argv[1] if len(sys.argv) > 1 else settings.knowledge_path)
    mark("load and validate the knowledge file")
    from bot.answers import Engine

    engine = Engine.from_knowledge(kb)
    mark("build the index")
    engine.ask("Combien a coûté l'entraînement de GPT-4 ?")
    mark("answer one question")
    marks["total since the interpreter ran this module"] = time.perf_counter() - _START
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    marks["peak RSS bytes"] = int(peak.split()[1]) * 1024
    print(json.dumps(marks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
