"""The README's reliability table is rendered from measured figures, never typed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.report import BEGIN, END, SECTIONS, main, table
from tests.results import load, record

SOAK = {
    "updates": 1000,
    "private_questions": 500,
    "inline_queries": 500,
    "users": 250,
    "seconds": 21.7,
    "requests": 1023,
    "injected_500": 62,
    "injected_429": 12,
    "injected_slow": 4,
    "replies": 938,
    "failed_after_retries": 62,
    "lost": 0,
    "duplicates": 0,
    "rss_start_mb": 88.6,
    "rss_end_mb": 94.1,
    "rss_growth_mb": 5.5,
    "exit_code": 0,
    "measured_at": "2026-11-29T03:00:41+00:00",
}


def test_the_table_shows_the_measured_figures() -> None:
    text = table({"soak": SOAK})
    soak = next(line for line in text.splitlines() if "Load held" in line)
    for shown in ("1,000 updates", "938 answered", "**0 lost, 0 answered twice**", "5.5 MB"):
        assert shown in soak
    assert "2026-11-29T03:00:41" in text


def test_a_test_that_did_not_run_shows_as_not_measured() -> None:
    lines = table({"soak": SOAK}).splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(SECTIONS)
    missing = [row for row in rows if "not measured" in row]
    assert len(missing) == len(SECTIONS) - 1
    assert all(not any(ch.isdigit() for ch in row) for row in missing)


def test_write_replaces_only_the_marked_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "reliability.json"
    monkeypatch.setenv("RELIABILITY_RESULTS", str(results))
    record("soak", **{k: v for k, v in SOAK.items() if k != "measured_at"})
    assert load(results)["soak"]["lost"] == 0
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n", encoding="utf-8")
    assert main(["--results", str(results), "--write", str(readme)]) == 0
    written = readme.read_text(encoding="utf-8")
    assert written.startswith("# Title\n\nbefore\n") and written.endswith(f"{END}\nafter\n")
    assert "old table" not in written and "938 answered" in written
    assert main(["--results", str(results), "--write", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == written  # idempotent


def test_write_refuses_a_file_without_markers_and_no_results(tmp_path: Path) -> None:
    results = tmp_path / "reliability.json"
    results.write_text(json.dumps({"soak": SOAK}), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n", encoding="utf-8")
    assert main(["--results", str(results), "--write", str(readme)]) == 1
    assert readme.read_text(encoding="utf-8") == "# no markers\n"
    assert main(["--results", str(tmp_path / "missing.json")]) == 1
