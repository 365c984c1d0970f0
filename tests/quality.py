"""Answer quality on a labelled question set: the figures the README reports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.answers import Engine

DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Quality:
    in_scope: int = 0
    in_scope_right: int = 0
    in_scope_wrong: int = 0
    """In-scope questions answered with another entry's fact: the wrong fact we must avoid."""
    in_scope_offered: int = 0
    """In-scope questions not answered, whose entry the "did you mean" offers first: one tap
    from the answer."""
    out_of_scope: int = 0
    abstained: int = 0
    chitchat: int = 0
    chitchat_right: int = 0
    chitchat_facts: int = 0
    """Chit-chat messages answered with a fact: the worst way to get them wrong."""
    total: int = 0
    lang_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.in_scope_right / self.in_scope

    @property
    def wrong_facts(self) -> float:
        return self.in_scope_wrong / self.in_scope

    @property
    def answered_or_offered(self) -> float:
        return (self.in_scope_right + self.in_scope_offered) / self.in_scope

    @property
    def abstention(self) -> float:
        return self.abstained / self.out_of_scope

    @property
    def language(self) -> float:
        return self.lang_right / self.total


def measure(engine: Engine, split: str) -> Quality:
    q = Quality()
    for line in (DATA / f"questions_{split}.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        reply = engine.ask(row["q"])
        expect = row["expect"]
        if expect == "abstain":
            q.out_of_scope += 1
            ok = not reply.answered
            q.abstained += ok
        elif expect == "chitchat":
            q.chitchat += 1
            ok = reply.kind == "chitchat"
            q.chitchat_right += ok
            q.chitchat_facts += reply.answered
        else:
            q.in_scope += 1
            ok = reply.answered and reply.entry == expect
            q.in_scope_right += ok
            q.in_scope_wrong += reply.answered and not ok
            first = reply.suggestions[0].entry if reply.suggestions else None
            q.in_scope_offered += reply.kind == "suggest" and first == expect
        q.total += 1
        q.lang_right += reply.lang == row["lang"]
        if not ok:
            q.misses.append(f"{row['q']!r}: expected {expect}, got {reply.kind} {reply.entry}")
    return q


def splits() -> list[str]:
    """Every question set in `tests/data`, tuning first, the held-out one last."""
    names = [p.stem.removeprefix("questions_") for p in DATA.glob("questions_*.jsonl")]

    def order(name: str) -> tuple[int, int]:
        if name == "tuning":
            return (0, 0)
        if name == "heldout":
            return (2, 0)
        return (1, int(name.removeprefix("dev") or 1))

    return sorted(names, key=order)


if __name__ == "__main__":
    shipped = Engine.from_path(DATA.parent.parent / "knowledge" / "deepseek.yaml")
    for name in splits():
        m = measure(shipped, name)
        print(
            f"{name}: in-scope top-1 {m.accuracy:.1%} ({m.in_scope}; "
            f"{m.answered_or_offered:.1%} with the entry offered first, "
            f"{m.wrong_facts:.1%} given another fact), "
            f"abstention {m.abstention:.1%} ({m.out_of_scope}), "
            f"chit-chat {m.chitchat_right}/{m.chitchat} ({m.chitchat_facts} given a fact), "
            f"language {m.language:.1%} ({m.total})"
        )
