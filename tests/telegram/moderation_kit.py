"""What the moderator tests share: moderators, knowledge files good and bad, and a bot whose
knowledge file, history and live version can be looked at from the test."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.knowledge import content_version, parse_knowledge
from bot.library import Library
from bot.telegram_handlers import SERVICES_KEY, Services
from tests.telegram.fake_bot_api import Call, FakeBotApi, user

if TYPE_CHECKING:
    from tests.telegram.conftest import AppThread

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge" / "deepseek.yaml"
SHIPPED = KNOWLEDGE.read_bytes()
"""Read once: the file in the repository may be edited while the suite runs."""
SHIPPED_VERSION = content_version(SHIPPED)
FIRST_ENTRY = parse_knowledge(SHIPPED).entries[0].id

MOD = user(9101, "Maud", "en")
MOD2 = user(9102, "Max", "en")
EVE = user(9166, "Eve", "en")
NOT_AVAILABLE = "This command is not available."
NOTHING_CHANGED = "Nothing was changed."

NEW_ENTRY = """
  - id: zz_added_entry
    topic: {fr: "Le frobnicateur zorglub", en: "The zorglub frobnicator"}
    questions:
      fr: ["Qu'est-ce que le frobnicateur zorglub ?"]
      en: ["What is the zorglub frobnicator?"]
    answer: {fr: "Une entrée de test.", en: "A test entry about the frobnicator."}
    source: {who: {fr: "Test", en: "Test"}, quote: "Une phrase de test."}
"""


def with_new_entry(data: bytes = SHIPPED, marker: str = "added") -> bytes:
    """`data` plus one entry, `zz_<marker>_entry` (entries come last in the file)."""
    entry = NEW_ENTRY.replace("zz_added_entry", f"zz_{marker}_entry")
    if marker != "added":
        entry = entry.replace("zorglub", f"zorglub {marker}")
    return data.rstrip(b"\n") + b"\n" + entry.encode()


def with_changed_entry(data: bytes = SHIPPED) -> tuple[bytes, str]:
    """`data` with one more keyword in the first entry that has keywords, and that entry."""
    text = data.decode()
    at = text.index("    keywords: [")
    entry = text[:at].rsplit("  - id: ", 1)[1].split("\n", 1)[0].strip()
    changed = text[:at] + text[at:].replace("keywords: [", "keywords: [zzchanged, ", 1)
    return changed.encode(), entry


def with_problems(data: bytes = SHIPPED) -> bytes:
    """Two problems at once: an entry without an answer, and a field no entry has."""
    no_answer = "\n".join(
        line
        for line in NEW_ENTRY.replace("zz_added_entry", "zz_no_answer").splitlines()
        if "answer:" not in line
    )
    unknown = NEW_ENTRY.replace("zz_added_entry", "zz_unknown_field").replace("zorglub", "other")
    unknown += "    colour: blue\n"
    return data.rstrip(b"\n") + b"\n" + (no_answer + "\n" + unknown).encode()


def with_duplicate_id(data: bytes = SHIPPED) -> bytes:
    """A second entry with the first entry's id."""
    return with_new_entry(data).replace(b"id: zz_added_entry", f"id: {FIRST_ENTRY}".encode())


def billion_laughs() -> bytes:
    """The classic YAML bomb: nine levels of aliases, a billion strings once expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(f'*{prev}' for _ in range(9))}]")
    lines.append("schema: 1\nentries: [*i]\n")
    return "\n".join(lines).encode()


HEAD = """schema: 1
article:
  title: {fr: "Titre", en: "Title"}
  summary: {fr: "Résumé.", en: "Summary."}
entries:
"""


def many_entries(n: int) -> bytes:
    """A valid knowledge file with `n` small entries (100,000 make about 27 MB)."""
    rows = [HEAD]
    for i in range(n):
        rows.append(
            f"  - id: e{i}\n"
            f'    topic: {{fr: "Sujet {i}", en: "Topic {i}"}}\n'
            f'    questions: {{fr: ["question numero {i} ?"], en: ["question number {i}?"]}}\n'
            f'    answer: {{fr: "Reponse {i}.", en: "Answer {i}."}}\n'
            f'    source: {{who: {{fr: "Source", en: "Source"}}, quote: "Phrase {i}."}}\n'
        )
    return "".join(rows).encode()


def write_atomically(path: Path, data: bytes) -> None:
    """How an editor saves: a temporary file beside, then a rename."""
    tmp = path.with_name(f".{path.name}.editor-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@dataclass
class Moderated:
    """The running bot with two moderators, and its knowledge file on disk."""

    api: FakeBotApi
    thread: AppThread
    knowledge: Path

    @property
    def services(self) -> Services:
        assert self.thread.app is not None
        svc = self.thread.app.bot_data[SERVICES_KEY]
        assert isinstance(svc, Services)
        return svc

    @property
    def library(self) -> Library:
        library = self.services.library
        assert library is not None
        return library

    @property
    def history_dir(self) -> Path:
        return self.knowledge.parent / ".history"

    def live_version(self) -> str:
        return self.library.engine.current.version

    def history(self) -> list[str]:
        return [v.path.name for v in self.library.history()]

    def snapshot(self) -> tuple[bytes, list[str], str, list[str]]:
        """The file, the history, the live version, and every file in the folder."""
        files = sorted(str(p.relative_to(self.knowledge.parent)) for p in self.folder_files())
        return self.knowledge.read_bytes(), self.history(), self.live_version(), files

    def folder_files(self) -> list[Path]:
        return [p for p in self.knowledge.parent.rglob("*") if p.is_file()]

    async def watching(self) -> None:
        """Wait until the file watcher is registered, so an edit cannot be missed."""
        assert await asyncio.to_thread(self.library.watching.wait, 5.0), "not watching"

    async def said(
        self, who: dict[str, Any], needle: str, *, count: int = 1, timeout: float = 5.0
    ) -> Call:
        """The `count`-th message to `who` containing `needle` (waits for it)."""
        calls = await self.api.wait_for(
            "sendMessage",
            count=count,
            match=lambda c: c.params.get("chat_id") == who["id"] and needle in c.text,
            timeout=timeout,
        )
        return calls[count - 1]

    def to(self, who: dict[str, Any]) -> list[Call]:
        """Every message sent to `who` so far."""
        return self.api.sent_to(int(who["id"]))

    def upload(self, data: bytes, name: str = "deepseek.yaml", **options: Any) -> None:
        """MOD sends `data` as a document."""
        self.api.inject(self.api.document_update(MOD, data, name, **options))
