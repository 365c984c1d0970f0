"""Shared fixtures: the shipped knowledge file and the engine built on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers import Engine

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge" / "deepseek.yaml"

CONTRACT_KEYS = frozenset(
    {"question", "answered", "entry", "score", "lang", "text", "figures", "source", "suggestions"}
)
"""The keys of `ask --json`, a contract other tools rely on: exactly these."""


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.from_path(KNOWLEDGE)
