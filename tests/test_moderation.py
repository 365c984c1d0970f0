"""Knowledge updates never lose anything: diffs, atomic writes, history, round-trip edits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import matching
from bot.answers import Engine
from bot.knowledge import KnowledgeError, parse_knowledge
from bot.moderation import HISTORY_KEEP, KnowledgeFile, add_variant, diff
from tests.conftest import KNOWLEDGE


@pytest.fixture
def shipped() -> bytes:
    return KNOWLEDGE.read_bytes()


def test_diff_names_added_removed_changed_entries_and_figures(shipped: bytes) -> None:
    old = parse_knowledge(shipped)
    text = re.sub(r"\bmeta_llama\b", "meta_and_llama", shipped.decode())
    new_text = text.replace("value: 60\n", "value: 61\n", 1).replace(
        "60 $ par million de jetons.", "61 $ par million de jetons."
    )
    try:
        new = parse_knowledge(new_text.encode())
    except KnowledgeError as exc:  # pragma: no cover - shows what the edit broke
        pytest.fail(str(exc))
    d = diff(old, new)
    assert d.added == ("meta_and_llama",) and d.removed == ("meta_llama",)
    assert "r1_pricing" in d.changed and "r1_pricing" in d.figures_changed
    assert any(line.startswith("Figures changed in: ") for line in d.lines())
    # The moderator sees the value that moved and the edited quote, not only an entry id.
    assert (
        "  r1_pricing: figure «OpenAI o1 model price» 60 USD/1M tokens -> 61 USD/1M tokens"
        in d.lines()
    )
    assert "  r1_pricing: source quote changed" in d.lines()
    assert diff(old, old).lines() == ["No entry changed."]


def test_diff_lists_added_variants_and_changes_outside_entries(shipped: bytes) -> None:
    old = parse_knowledge(shipped)
    with_variant = add_variant(shipped, "r1_pricing", "fr", "r1 ça coûte combien le million")
    lines = diff(old, parse_knowledge(with_variant)).lines()
    assert lines == [
        "Changed: r1_pricing",
        "  r1_pricing: questions (fr) +«r1 ça coûte combien le million»",
    ]
    text = shipped.decode().replace("off_topic: [open, ", "off_topic: [licorne, open, ", 1)
    assert diff(old, parse_knowledge(text.encode())).lines() == ["  off-topic words: +licorne"]
    rule = "phrases:\n  - read_as: trump\n    said: ['mister tariff']\n"
    text = shipped.decode().replace("phrases:\n", rule, 1)
    assert diff(old, parse_knowledge(text.encode())).lines() == [
        "  phrases: +1 -0 (now read as: trump)"
    ]


def test_replace_is_validated_atomic_and_archived(tmp_path: Path, shipped: bytes) -> None:
    live = tmp_path / "deepseek.yaml"
    live.write_bytes(shipped)
    kfile = KnowledgeFile(live)
    with pytest.raises(KnowledgeError):
        kfile.replace(b"entries: [")
    assert live.read_bytes() == shipped and kfile.versions() == []
    changed = add_variant(shipped, "r1_pricing", "en", "r1 price again?")
    kfile.replace(changed)
    assert live.read_bytes() == changed
    (archived,) = kfile.versions()
    assert archived.path.read_bytes() == shipped
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_history_keeps_the_last_twenty_versions(tmp_path: Path, shipped: bytes) -> None:
    live = tmp_path / "deepseek.yaml"
    live.write_bytes(shipped)
    kfile = KnowledgeFile(live)
    for n in range(HISTORY_KEEP + 5):
        kfile.replace(shipped + f"# edit {n}\n".encode())
    versions = kfile.versions()
    assert len(versions) == HISTORY_KEEP
    assert versions[0].path.read_bytes().endswith(f"# edit {HISTORY_KEEP + 3}\n".encode())
    assert versions[-1].path.read_bytes().endswith(b"# edit 4\n")  # the original and 0-3 pruned


def test_add_variant_keeps_comments_and_layout(shipped: bytes) -> None:
    updated = add_variant(shipped, "r1_pricing", "fr", "combien ça coûte R1 au juste ?")
    before, after = shipped.decode().splitlines(), updated.decode().splitlines()
    assert len(after) == len(before) + 1
    assert [line for line in after if line not in before] == [
        '        - "combien ça coûte R1 au juste ?"'
    ]
    entry = parse_knowledge(updated).entry("r1_pricing")
    assert entry is not None and entry.questions.fr[-1] == "combien ça coûte R1 au juste ?"
    with pytest.raises(KeyError):
        add_variant(shipped, "no_such_entry", "fr", "?")


LINT_BASE = """\
schema: 1
article:
  title: {fr: "T", en: "T"}
  summary: {fr: "S", en: "S"}
entries:
  - id: price
    topic: {fr: "Prix de R1", en: "R1 price"}
    questions:
      fr: ["prix de r1 ?", "combien coûte r1 ?", "tarif r1"]
      en: ["r1 price?", "how much is r1?", "r1 pricing"]
    answer: {fr: "2,2 $.", en: "$2.2."}
    source: {who: {fr: "X", en: "X"}, quote: "Q"}
  - id: ban
    topic: {fr: "Interdiction", en: "Ban"}
    questions:
      fr: ["deepseek interdit au congrès ?", "interdiction axios", "le congrès bannit deepseek"]
      en: ["deepseek banned in congress?", "axios ban", "house ban deepseek"]
    answer: {fr: "Non autorisé.", en: "Not authorized."}
    source: {who: {fr: "Axios", en: "Axios"}, quote: "Q"}
"""


def lint_file(tmp_path: Path, text: str) -> tuple[int, str]:
    from tests.test_cli import run

    path = tmp_path / "k.yaml"
    path.write_text(text, encoding="utf-8")
    done = run("lint", str(path))
    return done.returncode, done.stdout


def test_lint_passes_a_clean_file(tmp_path: Path) -> None:
    code, out = lint_file(tmp_path, LINT_BASE)
    assert code == 0, out
    assert out.strip().endswith(
        "0 colliding pair(s); 0 variant(s) using an off-topic word; 0 phrase(s) read as an "
        "unknown word; 0 word(s) ignored; 0 word(s) read as another group's."
    )


def test_lint_reports_a_variant_that_another_entry_answers(tmp_path: Path) -> None:
    text = LINT_BASE.replace('"tarif r1"', '"axios ban congress deepseek"')
    code, out = lint_file(tmp_path, text)
    assert code == 1
    assert "price [fr] 'axios ban congress deepseek' is answered by ban" in out
    assert "collision: price -> ban (1 variant)" in out


def test_lint_reports_a_variant_that_an_off_topic_word_declines(tmp_path: Path) -> None:
    text = LINT_BASE.replace("entries:", "off_topic: [installer]\nentries:").replace(
        '"tarif r1"', '"tarif r1 des installations ?"'
    )
    code, out = lint_file(tmp_path, text)
    assert code == 1
    assert (
        "off-topic: price 'tarif r1 des installations ?' uses 'installations', which the "
        "off-topic word 'installer' declines" in out
    )
    assert "; 1 variant(s) using an off-topic word;" in out


def test_lint_reports_a_phrase_read_as_a_word_the_file_never_uses(tmp_path: Path) -> None:
    # "axios" is a word of an entry; "axois" (a typo) is none: such questions match nothing.
    rules = (
        "phrases:\n"
        "  - {read_as: axios, said: ['le journal axios']}\n"
        "  - {read_as: '\\1 axois', said: ['(house) ban']}\n"
        "entries:"
    )
    code, out = lint_file(tmp_path, LINT_BASE.replace("entries:", rules))
    assert code == 1
    assert "phrase: phrases.1 reads as '\\1 axois', and 'axois' is no word of an entry" in out
    assert "phrases.0" not in out and "; 1 phrase(s) read as an unknown word;" in out


def test_lint_reports_a_keyword_synonym_or_off_topic_word_the_bot_ignores(tmp_path: Path) -> None:
    # "why" is a stop word: as a keyword of the price entry it speaks for nothing.
    text = LINT_BASE.replace(
        "entries:", "synonyms:\n  - [prix, real, tarif]\noff_topic: [sûr]\nentries:"
    ).replace(
        '    answer: {fr: "2,2 $.", en: "$2.2."}',
        '    keywords: [why, tarif]\n    answer: {fr: "2,2 $.", en: "$2.2."}',
    )
    code, out = lint_file(tmp_path, text)
    assert code == 1
    assert "ignored: price 'why' is only words the bot ignores" in out and "'tarif'" not in out
    assert "ignored: synonyms.0 'real' is only words the bot ignores" in out
    assert "ignored: off_topic 'sûr' is only words the bot ignores" in out
    assert "; 3 word(s) ignored;" in out


def test_lint_reports_words_the_bot_reads_as_another_groups(tmp_path: Path) -> None:
    # "bleed" stems like "blé": in two groups, the bot reads both as the later group's word.
    # "installations" stems like the off-topic "installer": as a synonym it is declined.
    text = LINT_BASE.replace(
        "entries:",
        "synonyms:\n  - [prix, tarif, bleed]\n  - [argent, blé, installations]\n"
        "off_topic: [installer]\nentries:",
    )
    code, out = lint_file(tmp_path, text)
    assert code == 1
    assert "shared: synonyms.1 'blé' reads as the same word as synonyms.0 'bleed'" in out
    assert (
        "shared: synonyms.1 'installations' reads as the same word as off_topic 'installer'" in out
    )
    assert "'tarif'" not in out and "; 2 word(s) read as another group's." in out


def test_lint_reads_a_variant_whole_as_search_does(tmp_path: Path) -> None:
    # "Fondée sur" is "based on", "fondée" alone is founded; a town the writer lives in is
    # about who is asking. Search declines neither, so the lint reports neither.
    text = LINT_BASE.replace("entries:", "off_topic: [fondée, lyon]\nentries:").replace(
        '"tarif r1"', '"tarif r1, une info fondée sur quoi ? je suis pharmacienne à Lyon"'
    )
    _, out = lint_file(tmp_path, text)
    assert "off-topic:" not in out
    assert "; 0 variant(s) using an off-topic word;" in out


def test_lint_exclusion_is_leave_one_out(engine: Engine) -> None:
    """The lint asks each variant without it: leaving it out never helps its own entry, and
    most variants then lose their perfect match (as in the index they match themselves)."""
    index = engine.index
    every = len(index.keys)
    sampled = range(0, len(index.variant_docs), 25)
    lowered = 0
    for v in sampled:
        doc = index.variant_docs[v]
        full = {m.key: m for m in matching.search(doc.text, index, limit=every)}
        left_out = matching.search(doc.text, index, exclude_variant=v, limit=every)
        without = {m.key: m for m in left_out}
        if doc.key not in without:
            lowered += 1
            continue
        assert without[doc.key].score <= full[doc.key].score
        lowered += without[doc.key].similarity < full[doc.key].similarity
    assert lowered >= len(sampled) // 2
