"""`bot.library` without Telegram: what the chat handlers rely on, on real files."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.answers import Engine, EngineRef
from bot.knowledge import KnowledgeError, content_version
from bot.library import MAX_UPLOAD_BYTES, Library, ReloadResult, watch
from bot.moderation import KnowledgeFile
from tests.telegram.moderation_kit import (
    SHIPPED,
    SHIPPED_VERSION,
    with_new_entry,
    with_problems,
    write_atomically,
)


@pytest.fixture
def library(tmp_path: Path, shipped_engine: Engine) -> Library:
    path = tmp_path / "deepseek.yaml"
    path.write_bytes(SHIPPED)
    return Library(EngineRef(shipped_engine), KnowledgeFile(path))


def test_a_proposal_confirmed_from_many_threads_at_once_applies_once(library: Library) -> None:
    proposal = library.propose(with_new_entry(), owner=1)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: library.apply(proposal.id, by=1).status, range(8)))
    assert sorted(results) == ["applied"] + ["gone"] * 7
    assert len(library.history()) == 1
    assert library.engine.current.version == content_version(with_new_entry())


def test_refusals_keep_the_proposal_and_change_nothing(library: Library) -> None:
    proposal = library.propose(with_new_entry(), owner=1)
    assert library.apply(proposal.id, by=2).status == "forbidden"
    assert library.cancel(proposal.id, by=2).status == "forbidden"
    assert library.apply("unknown", by=1).status == "gone"
    assert library.pending(proposal.id) is proposal
    assert library.path.read_bytes() == SHIPPED and library.history() == []
    with pytest.raises(KnowledgeError, match="larger than 1 MB"):
        library.propose(SHIPPED + b"#" * MAX_UPLOAD_BYTES)
    same = library.propose(SHIPPED, owner=1)
    assert same.identical and library.pending(same.id) is None
    assert library.rollback(1).status == "no_version"


def test_reload_reports_each_bad_file_once_until_it_changes(library: Library) -> None:
    write_atomically(library.path, with_problems())
    first = library.reload()
    assert first.status == "invalid" and first.news and len(first.problems) == 2
    again = library.reload()
    assert again.status == "invalid" and again.repeat and not again.news
    library.path.unlink()
    assert library.reload().news  # a different trouble is news again
    library.path.write_bytes(SHIPPED)
    assert library.reload().status == "restored"
    assert library.reload().status == "unchanged"
    assert library.engine.current.version == SHIPPED_VERSION


async def test_the_watcher_reloads_a_burst_of_writes_once(library: Library) -> None:
    seen: list[ReloadResult] = []

    async def on_news(result: ReloadResult) -> None:
        seen.append(result)

    stop = asyncio.Event()
    task = asyncio.create_task(watch(library, on_news, stop=stop))
    assert await asyncio.to_thread(library.watching.wait, 5.0)
    new = with_new_entry()
    for cut in (len(new) // 3, 2 * len(new) // 3, len(new)):  # one save in three quick writes
        library.path.write_bytes(new[:cut])
    (library.path.parent / "unrelated.yaml").write_bytes(b"x: [")  # not the watched file
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [r.status for r in seen] == ["reloaded"]
    assert library.engine.current.version == content_version(new)


def test_a_hand_edit_keeps_the_version_it_replaced_in_the_history(library: Library) -> None:
    write_atomically(library.path, with_new_entry())  # a moderator saves in an editor
    assert library.reload().status == "reloaded"
    (kept,) = library.history()
    assert kept.version == SHIPPED_VERSION and kept.path.read_bytes() == SHIPPED
    assert library.rollback(1).status == "applied"
    assert library.path.read_bytes() == SHIPPED
    assert library.engine.current.version == SHIPPED_VERSION
    # The edit rolled back from is kept too, once: the rollback can be undone.
    assert [v.version for v in library.history()] == [
        content_version(with_new_entry()),
        SHIPPED_VERSION,
    ]
