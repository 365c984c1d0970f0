"""The index kept on disk between runs of `ask`: the same replies as a fresh build, built again
when the file or the code changes, and never an error when the cache is missing, corrupt or
cannot be written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot import index_cache, matching
from bot.answers import Engine
from bot.index_cache import CACHE_NAME, load_engine
from tests.conftest import KNOWLEDGE, ROOT
from tests.test_cli import run

AXIOS = "Qu'a rapporté Axios jeudi ?"


def test_the_index_reads_back_as_it_was_built(engine: Engine) -> None:
    data = json.loads(json.dumps(matching.index_to_json(engine.index)))
    assert matching.index_from_json(data, engine.index.phrases) == engine.index


def test_a_cached_index_answers_as_a_fresh_build(tmp_path: Path, engine: Engine) -> None:
    load_engine(KNOWLEDGE, tmp_path)  # builds the index and keeps it
    assert (tmp_path / CACHE_NAME).is_file()
    cached = load_engine(KNOWLEDGE, tmp_path)
    lines = (ROOT / "tests" / "data" / "questions_tuning.jsonl").read_text().splitlines()
    questions = [json.loads(line)["q"] for line in lines]
    assert [cached.ask(q).to_json() for q in questions] == [
        engine.ask(q).to_json() for q in questions
    ]


def _tamper(cache: Path) -> None:
    """What a stale cache would hold: an index that declines "axios"."""
    stored = json.loads((cache / CACHE_NAME).read_text(encoding="utf-8"))
    for token in matching.tokens("axios jeudi"):
        stored["index"]["canonical"][token] = matching.OFF_TOPIC
    (cache / CACHE_NAME).write_text(json.dumps(stored), encoding="utf-8")


def test_the_cache_is_used_and_built_again_when_the_file_or_the_code_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge = tmp_path / "k.yaml"
    shutil.copy(KNOWLEDGE, knowledge)
    cache = tmp_path / "cache"
    assert load_engine(knowledge, cache).ask(AXIOS).entry == "house_ban"
    _tamper(cache)
    assert load_engine(knowledge, cache).ask(AXIOS).entry is None  # read from the cache
    knowledge.write_text(knowledge.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_engine(knowledge, cache).ask(AXIOS).entry == "house_ban"  # a new version
    _tamper(cache)
    monkeypatch.setattr(index_cache, "FORMAT", index_cache.FORMAT + 1)  # as if the code changed
    assert load_engine(knowledge, cache).ask(AXIOS).entry == "house_ban"


def test_a_corrupt_or_unwritable_cache_costs_only_the_build(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / CACHE_NAME).write_text('{"key": "cut sh', encoding="utf-8")
    assert load_engine(KNOWLEDGE, cache).ask(AXIOS).entry == "house_ban"
    stored = json.loads((cache / CACHE_NAME).read_text(encoding="utf-8"))  # written again, whole
    for wrong in ({"keys": 5}, {**stored["index"], "postings": []}):  # the right key, a wrong shape
        (cache / CACHE_NAME).write_text(json.dumps({**stored, "index": wrong}), encoding="utf-8")
        assert load_engine(KNOWLEDGE, cache).ask(AXIOS).entry == "house_ban"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert load_engine(KNOWLEDGE, blocked).ask(AXIOS).entry == "house_ban"
    assert [p.name for p in cache.iterdir()] == [CACHE_NAME]  # no temporary file left


def test_ask_keeps_the_index_in_the_data_folder(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path)}
    first = run("ask", "--json", AXIOS, env=env)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / CACHE_NAME).is_file()
    again = run("ask", "--json", AXIOS, env=env)
    assert again.returncode == 0 and again.stdout == first.stdout
    assert json.loads(again.stdout)["entry"] == "house_ban"
