"""The knowledge file: the shipped one is complete, and every kind of mistake is reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError, load_knowledge, numbers_in, parse_knowledge
from tests.conftest import KNOWLEDGE, ROOT

ARTICLE = ROOT.parent / "shared" / "seeds" / "000_143ad0d44696775b.txt"

REQUIRED = {
    "app_store_ranking",
    "tech_stocks_fall",
    "trump_wake_up_call",
    "house_ban",
    "us_concern_reasons",
    "yuyuan_tantian",
    "china_academy_industrial_internet",
    "training_cost",
    "r1_pricing",
    "training_strategy",
    "meta_llama",
    "capability_gap",
    "ai_investment",
}

MINIMAL = """\
schema: 1
article:
  title: {fr: "Titre", en: "Title"}
  summary: {fr: "Résumé", en: "Summary"}
entries:
  - id: price
    topic: {fr: "Prix", en: "Price"}
    questions:
      fr: ["Quel est le prix ?"]
      en: ["What is the price?"]
    answer: {fr: "2,2 $.", en: "$2.2."}
    figures:
      - value: 2.2
        unit: USD
        label: {fr: "Prix", en: "Price"}
        reported_by: "X"
    source:
      who: {fr: "X", en: "X"}
      quote: "Le prix est de 2,2 $."
"""


def problems(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(KnowledgeError) as caught:
        parse_knowledge(data)
    return [str(p) for p in caught.value.problems]


def test_shipped_file_covers_every_fact_of_the_article() -> None:
    kb = load_knowledge(KNOWLEDGE)
    ids = {e.id for e in kb.entries}
    assert ids >= REQUIRED
    figures = {(f.value, f.unit) for e in kb.entries for f in e.figures}
    for wanted in [
        (78, "USD"),
        (6, "USD"),
        (2.2, "USD/1M tokens"),
        (60, "USD/1M tokens"),
        (75, "percent"),
        (5.5, "USD"),
        (64.1, "USD"),
    ]:
        assert wanted in figures


def test_shipped_entries_have_six_variants_per_language_and_verbatim_quotes() -> None:
    kb = load_knowledge(KNOWLEDGE)
    article = ARTICLE.read_text(encoding="utf-8") if ARTICLE.exists() else None
    for entry in kb.entries:
        assert len(entry.questions.fr) >= 6, entry.id
        assert len(entry.questions.en) >= 6, entry.id
        if article is not None:
            assert entry.source.quote in article, entry.id


def test_minimal_file_is_valid_and_versioned_by_content() -> None:
    kb = parse_knowledge(MINIMAL.encode())
    assert kb.entries[0].id == "price"
    assert len(kb.version) == 12
    assert parse_knowledge(MINIMAL.encode() + b"\n# comment\n").version != kb.version


def test_numbers_in_reads_french_decimal_commas() -> None:
    assert numbers_in("à 5,5 milliards, contre 64,1 et 78 millions") == {5.5, 64.1, 78.0}


def test_duplicate_ids_are_reported_with_the_entry() -> None:
    entry = MINIMAL[MINIMAL.index("  - id: price") :]
    text = MINIMAL + entry.replace("Quel est le prix ?", "Combien ?").replace(
        "What is the price?", "How much?"
    )
    assert any("entry 'price'" in p and "used twice" in p for p in problems(text))


def test_same_variant_in_two_entries_is_reported() -> None:
    entry = MINIMAL[MINIMAL.index("  - id: price") :].replace("id: price", "id: cost")
    found = problems(MINIMAL + entry.replace("What is the price?", "Other?"))
    assert any("also a variant of entry 'price'" in p for p in found)


def test_missing_language_names_entry_and_field_and_line() -> None:
    text = MINIMAL.replace('      en: ["What is the price?"]\n', "")
    (problem,) = problems(text)
    assert problem.startswith("entry 'price', questions.en: is missing")
    assert "(line 8)" in problem  # the `questions:` mapping that lacks it


def test_figure_absent_from_its_quote_is_reported() -> None:
    text = MINIMAL.replace("value: 2.2", "value: 3.2")
    (problem,) = problems(text)
    assert "figures.0.value" in problem and "3.2 does not appear in source.quote" in problem


def test_a_synonym_or_off_topic_word_of_several_words_is_reported() -> None:
    text = MINIMAL.replace(
        "entries:",
        "synonyms:\n  - [startup, jeune pousse]\noff_topic: [gpt-5, pays-bas]\nentries:",
    )
    found = problems(text)
    assert len(found) == 2
    assert found[0].startswith("synonyms.0: 'jeune pousse' is several words")
    assert found[1].startswith("off_topic: 'pays-bas' is several words")  # not "gpt-5"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{read_as: boss, said: ['(in charge']}", "is not a valid pattern"),
        ("{read_as: boss, said: ['(?:in charge)?']}", "matches an empty text"),
        ("{read_as: boss, said: ['(?:\\w+ )+deepseek']}", "repeats a repetition or a choice"),
        ("{read_as: boss, said: ['(?:very |really )*big boss']}", "bound it ({0,3}"),
        ("{read_as: boss, said: [chef], near: ['meta|']}", "matches an empty text"),
        ("{read_as: '\\2 boss', said: ['(chief) executive']}", "invalid group reference 2"),
        ("{read_as: boss}", "said: is missing"),
    ],
)
def test_a_phrase_that_cannot_run_safely_is_reported_with_its_line(
    rule: str, expected: str
) -> None:
    text = MINIMAL.replace(
        "entries:", f"phrases:\n  - {{read_as: x, said: [y]}}\n  - {rule}\nentries:"
    )
    (problem,) = problems(text)
    assert problem.startswith("phrases.1") and expected in problem and "(line 7)" in problem


def test_an_article_entry_that_does_not_exist_is_reported() -> None:
    text = MINIMAL.replace(
        '  summary: {fr: "Résumé", en: "Summary"}\n',
        '  summary: {fr: "Résumé", en: "Summary"}\n  entry: prices\n',
    )
    (problem,) = problems(text)
    assert (
        problem.startswith("article.entry: 'prices' is not an entry's id") and "(line 5)" in problem
    )


def test_wrong_types_are_reported_not_raised() -> None:
    found = problems(MINIMAL.replace("value: 2.2", "value: deux"))
    assert any("figures.0.value" in p for p in found)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("schema: 1\ntitre: café".encode("latin-1"), "not UTF-8"),
        (b"schema: [1, 2\narticle: {", "YAML"),
        (b"- just\n- a list\n", "must be a mapping"),
        (b"just a string", "must be a mapping"),
    ],
)
def test_unusable_files_get_a_clear_problem(data: bytes, expected: str) -> None:
    assert any(expected in p for p in problems(data))


def test_yaml_syntax_error_gives_its_line() -> None:
    text = MINIMAL.replace(
        '  summary: {fr: "Résumé", en: "Summary"}', '  summary: {fr: "Résumé", en: '
    )
    (problem,) = problems(text)
    assert problem.startswith("YAML") and "(line " in problem


def test_billion_laughs_is_refused_quickly() -> None:
    bomb = "schema: 1\na: &a [x, x, x, x, x, x, x, x, x]\n"
    for n in range(1, 20):
        prev = "a" if n == 1 else f"l{n - 1}"
        bomb += f"l{n}: &l{n} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    assert any("aliases" in p for p in problems(bomb))


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="file not found"):
        load_knowledge(tmp_path / "nope.yaml")
    with pytest.raises(KnowledgeError, match="is a directory"):
        load_knowledge(tmp_path)


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_validate_command_summarises_a_good_file() -> None:
    done = run_cli("validate", str(KNOWLEDGE))
    assert done.returncode == 0
    assert "OK, " in done.stdout and " entries" in done.stdout


def test_validate_command_prints_one_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    entry = MINIMAL[MINIMAL.index("  - id: price") :]
    bad.write_text(MINIMAL.replace("value: 2.2", "value: 9") + entry, encoding="utf-8")
    done = run_cli("validate", str(bad))
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 2
    assert all(line.startswith(str(bad)) for line in lines)
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("content", [None, b"", b"\x00\x01binary", b"entries: [oops"])
def test_validate_never_shows_a_traceback(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "k.yaml"
    if content is not None:
        path.write_bytes(content)
    done = run_cli("validate", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.strip()
