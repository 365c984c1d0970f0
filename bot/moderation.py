"""Changing the knowledge file safely: what changed, atomic writes, history, and round-trip edits.

No Telegram here: the chat handlers and the CLI both call these, so an upload, a rollback and
an "add as a variant" all go through the same validate -> diff -> write -> swap path.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from bot import matching
from bot.answers import Engine
from bot.knowledge import (
    LANGS,
    Entry,
    Figure,
    KnowledgeBase,
    Lang,
    Phrase,
    content_version,
    parse_knowledge,
)

HISTORY_KEEP = 20
"""How many earlier versions the history folder keeps."""


@dataclass(frozen=True)
class Diff:
    """What a new knowledge version changes, entry by entry, for a moderator to confirm."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    figures_changed: tuple[str, ...]
    """Entries among `changed` whose figures differ: the facts people quote."""
    details: tuple[str, ...] = ()
    """One line per changed field ("r1_pricing: figure 'R1 price' 2.2 -> 2.3 USD/1M tokens")."""
    other: tuple[str, ...] = ()
    """Changes outside the entries: article, synonym groups, off-topic words."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.other)

    def lines(self) -> list[str]:
        """One line per kind of change, then the details, for a moderator to read first."""
        if self.empty:
            return ["No entry changed."]
        out = []
        if self.added:
            out.append("Added: " + ", ".join(self.added))
        if self.removed:
            out.append("Removed: " + ", ".join(self.removed))
        if self.changed:
            out.append("Changed: " + ", ".join(self.changed))
        if self.figures_changed:
            out.append("Figures changed in: " + ", ".join(self.figures_changed))
        shown = self.details[:MAX_DETAILS]
        out += [f"  {line}" for line in (*shown, *self.other)]
        if len(self.details) > MAX_DETAILS:
            out.append(f"  … and {len(self.details) - MAX_DETAILS} more changes")
        return out


MAX_DETAILS = 30
"""Detail lines shown in one diff; a moderator reviewing more reads the file itself."""


def diff(old: KnowledgeBase, new: KnowledgeBase) -> Diff:
    before = {e.id: e for e in old.entries}
    after = {e.id: e for e in new.entries}
    changed = [i for i in after if i in before and after[i] != before[i]]
    details = [line for i in changed for line in _entry_changes(before[i], after[i])]
    return Diff(
        added=tuple(i for i in after if i not in before),
        removed=tuple(i for i in before if i not in after),
        changed=tuple(changed),
        figures_changed=tuple(i for i in changed if after[i].figures != before[i].figures),
        details=tuple(details),
        other=tuple(_other_changes(old, new)),
    )


def _entry_changes(old: Entry, new: Entry) -> list[str]:
    """What changed in one entry, in the words of the file's fields."""
    out = []
    for lang in LANGS:
        was, now = getattr(old.questions, lang), getattr(new.questions, lang)
        plus = [q for q in now if q not in was]
        minus = [q for q in was if q not in now]
        if plus or minus:
            listed = [f"+«{q}»" for q in plus[:3]] + [f"-«{q}»" for q in minus[:3]]
            more = len(plus) + len(minus) - len(listed)
            out.append(
                f"{new.id}: questions ({lang}) "
                + " ".join(listed)
                + (f" (+{more})" if more else "")
            )
    for field in ("topic", "answer"):
        for lang in LANGS:
            if getattr(old, field).get(lang) != getattr(new, field).get(lang):
                out.append(f"{new.id}: {field} ({lang}) reworded")
    if old.figures != new.figures:
        out += [f"{new.id}: {line}" for line in _figure_changes(old.figures, new.figures)]
    if old.source != new.source:
        part = "quote" if old.source.quote != new.source.quote else "who is cited"
        out.append(f"{new.id}: source {part} changed")
    if old.keywords != new.keywords:
        out.append(f"{new.id}: keywords changed")
    if old.related != new.related:
        out.append(f"{new.id}: related now {', '.join(new.related) or 'none'}")
    return out


def _figure_changes(old: list[Figure], new: list[Figure]) -> list[str]:
    """Figures matched by their English label: a value moving is the change that matters."""
    was = {f.label.en: f for f in old}
    now = {f.label.en: f for f in new}
    out = []
    for label, figure in now.items():
        if label not in was:
            out.append(f"figure added «{label}» {_shown(figure)}")
        elif was[label] != figure:
            out.append(f"figure «{label}» {_shown(was[label])} -> {_shown(figure)}")
    out += [f"figure removed «{label}»" for label in was if label not in now]
    return out or ["figures reordered"]


def _shown(figure: Figure) -> str:
    scale = "" if figure.scale == "one" else f" {figure.scale}"
    qualifier = f"{figure.qualifier} " if figure.qualifier else ""
    return f"{qualifier}{figure.value:g}{scale} {figure.unit}"


def _other_changes(old: KnowledgeBase, new: KnowledgeBase) -> list[str]:
    out = []
    if old.article != new.article:
        out.append("article title, summary or entry changed")
    groups_was = {tuple(g) for g in old.synonyms}
    groups_now = {tuple(g) for g in new.synonyms}
    if groups_was != groups_now:
        added, gone = len(groups_now - groups_was), len(groups_was - groups_now)
        out.append(f"synonym groups: +{added} -{gone} (an edited group counts as one of each)")
    words_plus = [w for w in new.off_topic if w not in old.off_topic]
    words_minus = [w for w in old.off_topic if w not in new.off_topic]
    if words_plus or words_minus:
        listed = [f"+{w}" for w in words_plus[:5]] + [f"-{w}" for w in words_minus[:5]]
        out.append("off-topic words: " + " ".join(listed))
    rules_was, rules_now = [_rule(p) for p in old.phrases], [_rule(p) for p in new.phrases]
    if rules_was != rules_now:
        new_rules = [r for r in rules_now if r not in rules_was]
        old_rules = [r for r in rules_was if r not in rules_now]
        read = ", ".join(dict.fromkeys(r[0] or "nothing" for r in new_rules))
        detail = f" (now read as: {read})" if read else ""
        counted = f"phrases: +{len(new_rules)} -{len(old_rules)}{detail}"
        out.append(counted if new_rules or old_rules else "phrases reordered (order matters)")
    return out


def _rule(phrase: Phrase) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return phrase.read_as, tuple(phrase.said), tuple(phrase.near)


@dataclass(frozen=True)
class Version:
    """One file in the history folder."""

    path: Path
    saved_at: datetime
    version: str


_HISTORY_NAME = re.compile(r"^(\d{8}T\d{6}\d{6})-([0-9a-f]{12})\.yaml$")


class KnowledgeFile:
    """The live knowledge file and its history folder; every write is atomic.

    A reader (the bot, a moderator's editor) sees either the old file or the new one, never a
    half-written one, and the previous version is archived before it is replaced.
    """

    def __init__(self, path: Path, history_dir: Path | None = None) -> None:
        self.path = path
        self.history_dir = history_dir or path.parent / ".history"

    def read(self) -> bytes:
        return self.path.read_bytes()

    def replace(self, data: bytes) -> KnowledgeBase:
        """Validate, archive the current file, then atomically put `data` in its place."""
        kb = parse_knowledge(data)
        if self.path.exists():
            self.archive(self.path.read_bytes())
        _write_atomic(self.path, data)
        return kb

    def versions(self) -> list[Version]:
        """Archived versions, newest first."""
        if not self.history_dir.is_dir():
            return []
        found = []
        for child in self.history_dir.iterdir():
            m = _HISTORY_NAME.match(child.name)
            if m:
                saved = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
                found.append(Version(child, saved, m.group(2)))
        return sorted(found, key=lambda v: v.saved_at, reverse=True)

    def archive(self, data: bytes) -> None:
        """Keep `data` as the newest history version (once: the newest is not repeated)."""
        newest = self.versions()[:1]
        if newest and newest[0].version == content_version(data):
            return
        self.history_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        _write_atomic(self.history_dir / f"{stamp}-{content_version(data)}.yaml", data)
        for old in self.versions()[HISTORY_KEEP:]:
            old.path.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def add_variant(data: bytes, entry_id: str, lang: Lang, question: str) -> bytes:
    """The same file with one more question variant, comments and layout kept.

    Raises KeyError when the entry does not exist; the caller validates the result as usual.
    """
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _represent_null)
    doc = yaml.load(data.decode("utf-8-sig"))
    for entry in doc["entries"]:
        if entry["id"] == entry_id:
            entry["questions"][lang].append(DoubleQuotedScalarString(question.strip()))
            break
    else:
        raise KeyError(entry_id)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue().encode("utf-8")


def _represent_null(representer: Any, _: None) -> Any:
    """Write `null` as moderators wrote it, not as an empty value."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


@dataclass(frozen=True)
class Finding:
    """A question variant that the bot, without it, would not answer with its own entry."""

    entry: str
    lang: Lang
    question: str
    verdict: str
    """"answer" (by `other`), "suggest" or "fallback"."""
    other: str | None
    score: float


@dataclass(frozen=True)
class Declined:
    """A variant using a word the off-topic list declines: people who word a question like it
    get "I don't know" ("je bosse" once read as the off-topic "boss")."""

    entry: str
    question: str
    word: str
    listed: str
    """The off-topic word that declines it, as the knowledge file lists it."""


@dataclass(frozen=True)
class Unread:
    """A phrase read as a word the file never uses: questions saying it then match nothing,
    and count against every entry (a typo in `read_as`, or an off-topic word removed)."""

    phrase: int
    read_as: str
    word: str


@dataclass(frozen=True)
class Ignored:
    """A keyword, synonym or off-topic word made only of words the bot ignores (stop words,
    fillers): it speaks for nothing ("why" for the reasons entry)."""

    where: str
    """The entry whose keyword it is, the synonym group ("synonyms.3"), or "off_topic"."""
    word: str


@dataclass(frozen=True)
class Shared:
    """A synonym or keyword the bot reads as the same word as another group's synonym, or as an
    off-topic word: stemming cannot tell "bleed" from "blé", so questions saying one are read
    as the other (the later group's, or declined)."""

    where: str
    """The synonym group ("synonyms.1") or entry whose word it is."""
    word: str
    other: str
    """Where the other word is: "synonyms.59" or "off_topic"."""
    other_word: str


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    variants: int
    declined: tuple[Declined, ...] = ()
    unread: tuple[Unread, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    shared: tuple[Shared, ...] = ()

    @property
    def collisions(self) -> dict[tuple[str, str], int]:
        """Pairs of entries where a variant of the first is answered by the second."""
        pairs: dict[tuple[str, str], int] = {}
        for f in self.findings:
            if f.other is not None:
                pairs[(f.entry, f.other)] = pairs.get((f.entry, f.other), 0) + 1
        return pairs

    def lines(self) -> list[str]:
        out = []
        for f in self.findings:
            said = f"{f.entry} [{f.lang}] {f.question!r}"
            if f.other is not None:
                out.append(f"{said} is answered by {f.other} ({f.score:.0f})")
            else:
                out.append(f"{said} would get no answer ({f.verdict}, {f.score:.0f})")
        for (a, b), n in sorted(self.collisions.items()):
            out.append(f"collision: {a} -> {b} ({n} variant{'s' if n > 1 else ''})")
        for d in self.declined:
            out.append(
                f"off-topic: {d.entry} {d.question!r} uses {d.word!r}, which the off-topic "
                f"word {d.listed!r} declines"
            )
        for u in self.unread:
            out.append(
                f"phrase: phrases.{u.phrase} reads as '{u.read_as}', and '{u.word}' is no word "
                "of an entry, a synonym group or the off-topic list: questions saying it would "
                "match nothing"
            )
        for k in self.ignored:
            out.append(
                f"ignored: {k.where} {k.word!r} is only words the bot ignores (stop words, "
                "fillers): it speaks for nothing"
            )
        for c in self.shared:
            out.append(
                f"shared: {c.where} {c.word!r} reads as the same word as {c.other} "
                f"{c.other_word!r}: the bot cannot tell them apart"
            )
        clean = self.variants - len(self.findings)
        out.append(
            f"{clean}/{self.variants} variants are answered by their own entry without "
            f"themselves; {len(self.collisions)} colliding pair(s); {len(self.declined)} "
            f"variant(s) using an off-topic word; {len(self.unread)} phrase(s) read as an "
            f"unknown word; {len(self.ignored)} word(s) ignored; {len(self.shared)} word(s) "
            "read as another group's."
        )
        return out


def lint(engine: Engine) -> LintReport:
    """Leave-one-out: match every variant against the knowledge base without that variant;
    then what in the file speaks for nothing or declines its own variants."""
    index = engine.index
    findings = []
    for v, doc in enumerate(index.variant_docs):
        verdict, matches = engine.judge(doc.text, exclude_variant=v)
        if verdict == "answer" and matches[0].key == doc.key:
            continue
        findings.append(
            Finding(
                entry=doc.key,
                lang=doc.lang or "fr",
                question=doc.text,
                verdict=verdict,
                other=matches[0].key if verdict == "answer" else None,
                score=matches[0].score if matches else 0.0,
            )
        )
    return LintReport(
        tuple(findings),
        len(index.variant_docs),
        _declined(engine),
        _unread(engine.kb),
        _ignored(engine.kb, index.phrases),
        _shared(engine.kb, index.phrases),
    )


def _declined(engine: Engine) -> tuple[Declined, ...]:
    """Variants using a word the off-topic list declines, as search reads them."""
    phrases = engine.index.phrases
    listed = {
        tok: word
        for word in reversed(engine.kb.off_topic)
        for tok in matching.tokens(word, phrases)
    }
    return tuple(
        Declined(doc.key, doc.text, _word_of(doc.text, tok, phrases), listed[tok])
        for doc in engine.index.variant_docs
        for tok in dict.fromkeys(matching.tokens(doc.text, phrases))
        if tok in listed and tok not in matching.about_the_asker(doc.text, phrases)
    )


def _unread(kb: KnowledgeBase) -> tuple[Unread, ...]:
    """Phrases read as a word the file never writes. The file is read without its phrases:
    the index knows a `read_as` anyway, from the variants the phrase itself rewrites."""
    vocabulary = frozenset(t for text in kb.texts() for t in matching.tokens(text))
    return tuple(
        Unread(i, phrase.read_as, word)
        for i, phrase in enumerate(kb.phrases)
        for word in _GROUP_REFERENCE.sub(" ", phrase.read_as).split()
        if any(tok not in vocabulary for tok in matching.tokens(word))
    )


def _ignored(kb: KnowledgeBase, phrases: matching.Phrases) -> tuple[Ignored, ...]:
    said = [(entry.id, keyword) for entry in kb.entries for keyword in entry.keywords]
    said += [(f"synonyms.{i}", w) for i, group in enumerate(kb.synonyms) for w in group]
    said += [("off_topic", w) for w in kb.off_topic]
    return tuple(Ignored(where, w) for where, w in said if not matching.tokens(w, phrases))


def _shared(kb: KnowledgeBase, phrases: matching.Phrases) -> tuple[Shared, ...]:
    """Synonyms of different groups, or a synonym or keyword and an off-topic word, that the
    bot reads as one word."""
    first: dict[str, tuple[str, str]] = {}
    for word in kb.off_topic:
        for tok in matching.tokens(word, phrases):
            first.setdefault(tok, ("off_topic", word))
    found = []
    said = [(f"synonyms.{i}", w) for i, group in enumerate(kb.synonyms) for w in group]
    said += [(entry.id, keyword) for entry in kb.entries for keyword in entry.keywords]
    for where, word in said:
        toks = matching.tokens(word, phrases)
        if len(toks) != 1:
            continue
        other = first.setdefault(toks[0], (where, word))
        if other[0] != where and (other[0] == "off_topic" or where.startswith("synonyms.")):
            found.append(Shared(where, word, *other))
    return tuple(found)


_GROUP_REFERENCE = re.compile(r"\\\d+|\\g<\w+>")
"""`\\1`, `\\g<name>` in a `read_as`: what the question said, not a word of the rule."""


def _word_of(text: str, token: str, phrases: matching.Phrases) -> str:
    """The word of `text` a token comes from. The whole text is tokenized, as search does: a
    word's meaning may depend on its neighbours ("fondée sur" is no founding), and who is
    asking ("je suis pharmacienne à Lyon") counts for nothing."""
    words = matching.words(text, phrases)
    return next((w for w in words if token in matching.tokens(w, phrases)), token)
