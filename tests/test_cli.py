"""The command line, run as a newcomer would: a real process, real files, no Telegram."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CONTRACT_KEYS, KNOWLEDGE, ROOT


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TELEGRAM_BOT_TOKEN": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env=environment,
    )


def test_help_lists_every_command() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in ("ask", "chat", "validate", "run", "start"):
        assert command in done.stdout


def test_ask_prints_the_reply_as_plain_text() -> None:
    done = run("ask", "Combien a coûté l'entraînement de GPT-4 ?")
    assert done.returncode == 0
    assert "78 millions de dollars" in done.stdout
    assert "Source :" in done.stdout and "<b>" not in done.stdout


def test_ask_json_has_exactly_the_contract_keys() -> None:
    done = run("ask", "--json", "How much does R1 cost?")
    data = json.loads(done.stdout)
    assert set(data) == CONTRACT_KEYS
    assert data["answered"] is True and data["entry"] == "r1_pricing" and data["lang"] == "en"
    assert {"value": 2.2, "unit": "USD/1M tokens"}.items() <= data["figures"][0].items()
    assert isinstance(data["source"], str) and data["suggestions"] == []


def test_ask_json_reads_stdin_one_object_per_line_in_order() -> None:
    questions = [
        "bonjour",
        "prix r1",
        "",
        "Quel âge a le patron de DeepSeek ?",
        "what did trump say",
    ]
    done = run("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert [r["answered"] for r in rows] == [False, True, False, False, True]
    assert all(set(r) == CONTRACT_KEYS for r in rows)
    assert rows[3]["entry"] is None and rows[3]["figures"] == []


def test_ask_with_a_missing_knowledge_file_says_so_and_exits_1(tmp_path: Path) -> None:
    done = run("ask", "--knowledge", str(tmp_path / "missing.yaml"), "prix r1")
    assert done.returncode == 1
    assert "file not found" in done.stderr and "Traceback" not in done.stderr


def test_ask_with_a_broken_knowledge_file_exits_1(tmp_path: Path) -> None:
    broken = tmp_path / "k.yaml"
    broken.write_text("entries: [", encoding="utf-8")
    done = run("ask", "--knowledge", str(broken), "prix r1")
    assert done.returncode == 1 and "YAML" in done.stderr and "Traceback" not in done.stderr


def test_chat_console_answers_until_end_of_input() -> None:
    done = run("chat", stdin="prix r1\nbonjour\n")
    assert done.returncode == 0
    assert "2,2 $ par million de jetons" in done.stdout
    assert "Bonjour !" in done.stdout


def test_start_without_token_opens_the_console_with_a_notice() -> None:
    done = run("start", "--knowledge", str(KNOWLEDGE), stdin="what did trump say\n")
    assert done.returncode == 0
    assert "No TELEGRAM_BOT_TOKEN" in done.stdout and "wake-up call" in done.stdout


def test_ask_does_not_import_telegram() -> None:
    """Start-up speed depends on it; the benchmark measures the time itself."""
    code = "import sys, bot.cli; bot.cli.main(['ask', 'prix r1']); print('telegram' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip().endswith("False")


def test_a_malformed_setting_is_one_clear_line_and_exit_2() -> None:
    done = run("ask", "prix r1", env={"MODERATOR_IDS": "not-a-number"})
    assert done.returncode == 2
    assert done.stderr.startswith("Bad setting MODERATOR_IDS") and "Traceback" not in done.stderr


def test_misses_exports_what_the_bot_could_not_answer_as_csv(tmp_path: Path) -> None:
    import asyncio
    import csv

    from bot.answers import Engine
    from bot.settings import Settings
    from bot.storage import QuestionLog

    engine = Engine.from_path(KNOWLEDGE)
    settings = Settings(data_dir=tmp_path / "data", database_url=None)

    async def record() -> None:
        log = await QuestionLog.from_settings(settings)
        for question in ("Quel temps fait-il à Pékin ?", "Quel temps fait il a Pekin", "hello"):
            await log.record_reply(engine.ask(question), chat_type="private", user_id=1)
        await log.record_reply(engine.ask("prix de DeepSeek-R1"), chat_type="private", user_id=1)
        await log.close()

    asyncio.run(record())
    env = {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    shown = run("misses", "--days", "7", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "2 × [fr] Quel temps fait" in shown.stdout  # the two wordings are one group
    assert "DeepSeek-R1" not in shown.stdout and "hello" not in shown.stdout  # answered, chat
    target = tmp_path / "misses.csv"
    exported = run("misses", "--days", "7", "--csv", str(target), env=env)
    assert exported.returncode == 0 and "1 group(s)" in exported.stdout
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig")))
    assert [r["count"] for r in rows] == ["2"]
    assert rows[0]["question"].startswith("Quel temps fait") and rows[0]["lang"] == "fr"


def test_misses_with_a_bad_days_value_or_database_says_so() -> None:
    bad_days = run("misses", "--days", "zero")
    assert bad_days.returncode == 2 and "whole number" in bad_days.stderr
    bad_url = run("misses", env={"DATABASE_URL": "mysql://bot:hunter2@db/kb"})
    assert bad_url.returncode == 1 and "Cannot read the question log" in bad_url.stderr
    assert "hunter2" not in bad_url.stderr and "Traceback" not in bad_url.stderr
