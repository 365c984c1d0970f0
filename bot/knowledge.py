"""The knowledge file: its schema, loading and validation.

Everything a moderator can get wrong is reported as a `Problem` (entry id, field, YAML line),
never as a traceback, so the bot can keep serving the last good version.
"""

from __future__ import annotations

import hashlib
import re
import re._constants as re_constants  # type: ignore[import-not-found]
import re._parser as re_parser  # type: ignore[import-not-found]
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")

MAX_FILE_BYTES = 64 * 1024 * 1024
"""A knowledge file larger than this is refused before parsing (uploads have their own cap)."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings accepted (a knowledge file needs about six)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Bilingual(_Model):
    """A text in both languages: every reply must exist in the asker's language."""

    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: Lang) -> str:
        return self.fr if lang == "fr" else self.en


class Questions(_Model):
    """Question variants, as people really type them, in each language."""

    fr: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)

    def all(self) -> Iterator[tuple[Lang, str]]:
        for lang in LANGS:
            for question in getattr(self, lang):
                yield lang, question


class Figure(_Model):
    """A number the article cites, structured so replies can show and compare it."""

    value: float
    unit: Literal["USD", "USD/1M tokens", "percent"]
    scale: Literal["one", "million", "billion"] = "one"
    qualifier: Literal["under", "nearly", "about"] | None = None
    label: Bilingual
    period: str | None = None
    reported_by: str


class Source(_Model):
    """Who is cited, and the article's own sentence the answer rests on."""

    who: Bilingual
    quote: str = Field(min_length=1)


class Entry(_Model):
    """One fact of the article."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=40)
    topic: Bilingual
    questions: Questions
    keywords: list[str] = Field(default_factory=list)
    answer: Bilingual
    figures: list[Figure] = Field(default_factory=list)
    source: Source
    related: list[str] = Field(default_factory=list)


class Article(_Model):
    title: Bilingual
    summary: Bilingual
    entry: str | None = None
    """The entry that answers "what is the article about?": its answer then comes with the
    summary. None: such questions get the title and summary only."""


class Phrase(_Model):
    """Words read as one word of this file before matching: "who is behind it" is its author,
    not a gap behind someone. Patterns run on every question, so they are checked here."""

    read_as: str
    said: list[str] = Field(min_length=1)
    """Regular expressions, matched as whole words on the folded question."""
    near: list[str] = Field(default_factory=list)
    """Only when the question also says one of these (the boss *of Meta*)."""

    @field_validator("said", "near")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            _check_pattern(pattern)
        return patterns

    @model_validator(mode="after")
    def _groups(self) -> Phrase:
        try:
            re.compile("|".join(f"(?:{s})" for s in self.said)).sub(self.read_as, "")
        except re.error as exc:
            raise ValueError(f"read_as '{self.read_as}': {exc}") from None
        return self


def _check_pattern(pattern: str) -> None:
    """A pattern that compiles, cannot match nothing (it would be read everywhere), and has no
    unbounded repetition of a repetition or a choice ("(a+)+", "(a|aa)+"), which can take
    exponential time."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid pattern: {exc}") from None
    if compiled.fullmatch("") is not None:
        raise ValueError(f"{pattern!r} matches an empty text, so it would be read everywhere")
    if _nested_repeat(re_parser.parse(pattern), inside=False):
        raise ValueError(
            f"{pattern!r} repeats a repetition or a choice without bound, which can hang the "
            "bot: bound it ({0,3} rather than + or *)"
        )


def _nested_repeat(items: Any, *, inside: bool) -> bool:
    """Whether a parsed pattern repeats, or offers a choice, inside an unbounded repetition
    ("(a+)+", "(a|aa)+"): the shapes of catastrophic backtracking. The tree is the standard
    library's own (`re._parser`): no public API shows a pattern's structure."""
    for op, arg in items:
        if op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT):
            _, high, sub = arg
            if (inside and high > 1) or _nested_repeat(
                sub, inside=inside or high == re_constants.MAXREPEAT
            ):
                return True
        elif (inside and op is re_constants.BRANCH) or any(
            _nested_repeat(part, inside=inside) for part in _subpatterns(arg)
        ):
            return True
    return False


def _subpatterns(arg: Any) -> Iterator[Any]:
    """The parsed sub-patterns inside an item's argument (a group, a branch, an assertion)."""
    if isinstance(arg, re_parser.SubPattern):
        yield arg
    elif isinstance(arg, tuple | list):
        for part in arg:
            yield from _subpatterns(part)


class KnowledgeBase(_Model):
    """A validated knowledge file; `version` is the hash of the bytes it was read from."""

    schema_version: Literal[1] = Field(alias="schema")
    article: Article
    entries: list[Entry] = Field(min_length=1)
    synonyms: list[list[str]] = Field(default_factory=list)
    """Groups of words that mean the same here, in either language; the first names the group."""
    off_topic: list[str] = Field(default_factory=list)
    """Words of questions the article cannot answer ("founder"): they must never match an entry."""
    phrases: list[Phrase] = Field(default_factory=list)
    """Phrases read as one word before matching, in order."""

    _version: str = PrivateAttr(default="")

    @property
    def version(self) -> str:
        return self._version

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def texts(self) -> Iterator[str]:
        """Every text the file writes for matching: questions, keywords, topics and answers,
        synonyms, off-topic words. What the bot may meet again in a question."""
        for entry in self.entries:
            yield from (q for _, q in entry.questions.all())
            yield from entry.keywords
            for lang in LANGS:
                yield entry.topic.get(lang)
                yield entry.answer.get(lang)
        for group in self.synonyms:
            yield from group
        yield from self.off_topic


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a knowledge file, located as precisely as we can."""

    where: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        at = f" (line {self.line})" if self.line else ""
        return f"{self.where}: {self.message}{at}"


class KnowledgeError(Exception):
    """The file cannot be used; `problems` says every reason we found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def content_version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def load_knowledge(path: Path | str) -> KnowledgeBase:
    """Read and validate a knowledge file; raises `KnowledgeError` for anything wrong."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise KnowledgeError([Problem(str(path), f"larger than {MAX_FILE_BYTES} bytes")])
        data = path.read_bytes()
    except FileNotFoundError:
        raise KnowledgeError([Problem(str(path), "file not found")]) from None
    except IsADirectoryError:
        raise KnowledgeError([Problem(str(path), "is a directory, not a file")]) from None
    except OSError as exc:
        raise KnowledgeError([Problem(str(path), f"cannot be read ({exc.strerror})")]) from None
    return parse_knowledge(data)


def parse_knowledge(data: bytes) -> KnowledgeBase:
    """Validate a knowledge file's bytes: encoding, YAML, schema, then cross-entry rules.

    The fast C loader reads the file; only a file with problems is read again with line
    records, so that each problem can name its line.
    """
    text = _decode(data)
    _check_depth(text)
    raw = _load_yaml(text, YAML(typ="safe"))
    try:
        kb = KnowledgeBase.model_validate(_plain(raw))
    except ValidationError as exc:
        located = _load_yaml(text, YAML(typ="rt"))
        raise KnowledgeError([_from_pydantic(err, located) for err in exc.errors()]) from None
    if next(_check_consistency(kb, None), None) is not None:
        located = _load_yaml(text, YAML(typ="rt"))
        raise KnowledgeError(list(_check_consistency(kb, located)))
    kb._version = content_version(data)
    return kb


def _decode(data: bytes) -> str:
    if not data.strip():
        raise KnowledgeError([Problem("file", "is empty")])
    if b"\x00" in data:
        raise KnowledgeError([Problem("file", "is binary, not a YAML text file")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(
            [Problem("file", f"is not UTF-8 text (bad byte at offset {exc.start})")]
        ) from None


def _check_depth(text: str) -> None:
    """Refuse deep nesting from the parser's events, before any node is built.

    The C loader builds nested nodes recursively: some 50 KB of "[[[[..." overflow its stack
    and kill the process (no exception to catch). Events come from a flat state machine.
    Syntax errors are left to the real load, which reports them with their line.
    """
    depth = 0
    try:
        for event in YAML(typ="safe").parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise KnowledgeError(
                        [Problem("YAML", f"lists and mappings nested over {MAX_DEPTH} levels deep")]
                    )
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except (YAMLError, ValueError):
        return


def _load_yaml(text: str, yaml: YAML) -> Any:
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise KnowledgeError([Problem("YAML", str(exc.problem or exc.context), line)]) from None
    except (YAMLError, ValueError, RecursionError) as exc:
        raise KnowledgeError([Problem("YAML", f"cannot be parsed: {exc}")]) from None
    if not isinstance(raw, dict):
        raise KnowledgeError(
            [Problem("file", "must be a mapping with 'schema', 'article' and 'entries'")]
        )
    return raw


def _plain(node: Any, seen: set[int] | None = None) -> Any:
    """Turn ruamel's round-trip nodes into plain data, refusing YAML aliases.

    Aliases are never needed in a knowledge file, and refusing them defuses "billion laughs".
    """
    seen = set() if seen is None else seen
    if isinstance(node, dict | list):
        if id(node) in seen:
            raise KnowledgeError([Problem("YAML", "anchors and aliases (&, *) are not allowed")])
        seen.add(id(node))
        if isinstance(node, dict):
            return {str(k): _plain(v, seen) for k, v in node.items()}
        return [_plain(v, seen) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int | float):
        return int(node) if isinstance(node, int) else float(node)
    return str(node)


def _line_of(raw: Any, loc: tuple[int | str, ...]) -> int | None:
    """The YAML line of a pydantic error location, from ruamel's line/column records."""
    node, line = raw, None
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None:
                line = lc.key(key)[0] + 1 if isinstance(node, dict) else lc.item(key)[0] + 1
            node = node[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def _entry_label(raw: Any, index: int) -> str:
    try:
        return f"entry '{raw['entries'][index]['id']}'"
    except (KeyError, IndexError, TypeError):
        return f"entries[{index}]"


def _from_pydantic(err: Any, raw: Any) -> Problem:
    loc: tuple[int | str, ...] = tuple(err["loc"])
    where = ".".join(str(part) for part in loc) or "file"
    if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
        rest = ".".join(str(p) for p in loc[2:])
        where = _entry_label(raw, loc[1]) + (f", {rest}" if rest else "")
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "is missing"
    elif err["type"] == "extra_forbidden":
        message = "is not a known field"
    return Problem(where, message, _line_of(raw, loc))


def _fold(text: str) -> str:
    """Case, accents and spacing folded: two variants that differ only so are the same."""
    stripped = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in stripped if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w%$€]+", " ", stripped).split())


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def numbers_in(text: str) -> set[float]:
    """Every number a sentence writes, French decimal commas included ("2,2" is 2.2)."""
    return {float(m.replace(",", ".")) for m in _NUMBER.findall(text.replace("\u202f", ""))}


_SEVERAL_WORDS = re.compile(r"[^\W\d_][\s'’-]+[^\W\d_]")
"""Letters on both sides of a space, hyphen or apostrophe ("jeune pousse", "gagne-pain"); "gpt-5"
is one word to the matcher."""


def _check_consistency(kb: KnowledgeBase, raw: Any) -> Iterator[Problem]:
    """Rules that span fields or entries, which the schema alone cannot express."""
    in_group: dict[str, int] = {}
    for g, group in enumerate(kb.synonyms):
        if len(group) < 2:
            yield Problem(
                f"synonyms.{g}", "a group needs at least two words", _line_of(raw, ("synonyms", g))
            )
        for word in group:
            if _SEVERAL_WORDS.search(word):
                yield Problem(
                    f"synonyms.{g}",
                    f"{word!r} is several words: the matcher compares one word at a time, "
                    "so it would never match; keep one word",
                    _line_of(raw, ("synonyms", g)),
                )
            first = in_group.setdefault(_fold(word), g)
            if first != g:
                yield Problem(
                    f"synonyms.{g}",
                    f"{word!r} is already in group {first}",
                    _line_of(raw, ("synonyms", g)),
                )
    for word in kb.off_topic:
        if _SEVERAL_WORDS.search(word):
            yield Problem(
                "off_topic",
                f"{word!r} is several words: each would be off-topic on its own "
                "('pays-bas' would block 'pays' and 'bas'); keep one word",
                _line_of(raw, ("off_topic",)),
            )
    first_index: dict[str, int] = {}
    owner_of: dict[str, str] = {}
    ids = {e.id for e in kb.entries}
    if kb.article.entry is not None and kb.article.entry not in ids:
        yield Problem(
            "article.entry",
            f"'{kb.article.entry}' is not an entry's id",
            _line_of(raw, ("article", "entry")),
        )
    for i, entry in enumerate(kb.entries):
        line = _line_of(raw, ("entries", i, "id"))
        if entry.id in first_index:
            yield Problem(
                f"entry '{entry.id}'",
                f"id is used twice (also entries[{first_index[entry.id]}])",
                line,
            )
        first_index.setdefault(entry.id, i)
        for lang, question in entry.questions.all():
            key = _fold(question)
            other = owner_of.setdefault(key, entry.id)
            if other != entry.id:
                yield Problem(
                    f"entry '{entry.id}', questions.{lang}",
                    f"variant {question!r} is also a variant of entry '{other}'",
                    line,
                )
        for rel in entry.related:
            if rel not in ids or rel == entry.id:
                yield Problem(
                    f"entry '{entry.id}', related", f"'{rel}' is not another entry's id", line
                )
        cited = numbers_in(entry.source.quote)
        for j, figure in enumerate(entry.figures):
            if not any(abs(figure.value - n) < 1e-9 for n in cited):
                yield Problem(
                    f"entry '{entry.id}', figures.{j}.value",
                    f"{figure.value:g} does not appear in source.quote",
                    _line_of(raw, ("entries", i, "figures", j, "value")),
                )
