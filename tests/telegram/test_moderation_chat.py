"""Moderators in chat: uploads with a diff and Confirm, bad files of every kind, Confirm
races, /history and /rollback, /lint, and what everyone else gets (nothing)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.answers import Engine
from bot.knowledge import content_version
from tests.telegram.conftest import BotRunner, start_moderated
from tests.telegram.fake_bot_api import Call, FakeBotApi, group_chat, private_chat
from tests.telegram.moderation_kit import (
    EVE,
    MOD,
    MOD2,
    NOT_AVAILABLE,
    NOTHING_CHANGED,
    SHIPPED,
    SHIPPED_VERSION,
    Moderated,
    billion_laughs,
    many_entries,
    with_changed_entry,
    with_duplicate_id,
    with_new_entry,
    write_atomically,
)

MB = 1024 * 1024


async def proposal_for(moderated: Moderated, data: bytes, count: int = 1) -> Call:
    """MOD uploads `data`; the bot's reply with the diff and Confirm / Cancel."""
    moderated.upload(data)
    proposal = await moderated.said(MOD, "Proposed update", count=count)
    assert proposal.callback_data[0].startswith("m:ok:")
    assert proposal.callback_data[1].startswith("m:no:")
    return proposal


async def test_an_upload_shows_the_diff_and_confirm_replaces_the_file_atomically(
    moderated: Moderated, api: FakeBotApi
) -> None:
    await moderated.watching()
    changed, entry = with_changed_entry()
    new = with_new_entry(changed)
    proposal = await proposal_for(moderated, new)
    assert f"version <code>{content_version(new)}</code>" in proposal.text
    assert "Added: zz_added_entry" in proposal.text
    assert f"Changed: {entry}" in proposal.text
    assert "upload of deepseek.yaml" in proposal.text
    assert all(len(d.encode()) <= 64 for d in proposal.callback_data)
    # Nothing changes before the Confirm.
    assert moderated.knowledge.read_bytes() == SHIPPED
    assert moderated.live_version() == SHIPPED_VERSION

    api.press(MOD, proposal.message, proposal.callback_data[0])
    applied = await moderated.said(MOD, "applied")
    assert "Added: zz_added_entry" in applied.text
    assert moderated.knowledge.read_bytes() == new
    assert moderated.live_version() == content_version(new)
    (previous,) = moderated.library.history()
    assert previous.path.read_bytes() == SHIPPED and previous.version == SHIPPED_VERSION
    leftovers = [p.name for p in moderated.folder_files() if p.name.endswith(".tmp")]
    assert leftovers == []
    told = await moderated.said(MOD2, "Knowledge updated")
    assert "by Maud (upload of deepseek.yaml)" in told.text
    # The buttons are taken off the decided proposal.
    (edit,) = await api.wait_for("editMessageReplyMarkup")
    assert edit.params["message_id"] == proposal.message["message_id"]
    # The watcher sees the new file, which is already live: no second announcement.
    await api.quiet(0.5)
    assert [c for c in moderated.to(MOD) if "Knowledge reloaded" in c.text] == []


BAD_UPLOADS: list[tuple[str, str, bytes, dict[str, Any], str]] = [
    ("claims 50 MB", "big.yaml", b"schema: 1\n", {"file_size": 50 * MB}, "too big (50.0 MB)"),
    (
        "really 1.5 MB, size unknown until downloaded",
        "big.yaml",
        SHIPPED + b"#" * (3 * MB // 2),
        {"file_size": None, "sized": False},
        "too big (1.",
    ),
    (
        "latin-1",
        "latin1.yaml",
        SHIPPED.decode().encode("latin-1", errors="replace"),
        {},
        "is not UTF-8",
    ),
    ("binary with a .yaml name", "photo.yaml", b"\x89PNG\r\n\x1a\n\x00\x00" * 300, {}, "binary"),
    ("billion laughs", "bomb.yaml", billion_laughs(), {}, "anchors and aliases"),
    # 50 KB that used to crash the C loader (and the whole bot with it): no exception, a segfault.
    ("nested 50,000 deep", "deep.yaml", b"[" * 50_000, {}, "nested over 64 levels deep"),
    ("malformed YAML", "broken.yml", b"schema: 1\nentries: [\n  - {id: x\n", {}, "YAML"),
    ("duplicate ids", "dup.yaml", with_duplicate_id(), {}, "id is used twice"),
    ("empty", "empty.yaml", b"", {}, "is empty"),
    ("only blanks", "blank.yaml", b"  \n\n", {}, "is empty"),
    ("not YAML by name", "notes.txt", with_new_entry(), {}, ".yaml or .yml"),
    ("a list, not a mapping", "list.yaml", b"- a\n- b\n", {}, "must be a mapping"),
]


async def test_every_kind_of_bad_upload_is_explained_and_changes_nothing(
    moderated: Moderated, api: FakeBotApi
) -> None:
    before = moderated.snapshot()
    for n, (case, name, content, options, expected) in enumerate(BAD_UPLOADS, 1):
        moderated.upload(content, name, **options)
        told = await moderated.said(MOD, NOTHING_CHANGED, count=n)
        assert expected in told.text, f"{case}: {told.text}"
        assert told.callback_data == [], case  # nothing to confirm
        assert moderated.snapshot() == before, case
        assert len(moderated.to(MOD)) == n, f"{case}: one clear message, nothing else"
    # A size announced over the limit is refused before anything is fetched.
    assert api.calls_to("getFile")[0].params["file_id"] != "FILE1"
    assert len(api.downloads) == len(BAD_UPLOADS) - 2  # not the 50 MB one, not the .txt


@pytest.mark.parametrize("sized", [True, False], ids=["size known", "size found on download"])
async def test_a_100000_entry_file_is_refused_before_it_is_parsed(
    moderated: Moderated, api: FakeBotApi, sized: bool
) -> None:
    huge = many_entries(100_000)
    assert len(huge) > 20 * MB
    before = moderated.snapshot()
    moderated.upload(huge, "huge.yaml", file_size=len(huge) if sized else None, sized=sized)
    told = await moderated.said(MOD, NOTHING_CHANGED)
    assert "too big" in told.text and "the limit is 1 MB" in told.text
    assert moderated.snapshot() == before
    assert len(api.downloads) == (0 if sized else 1)


async def test_confirm_pressed_twice_applies_once(moderated: Moderated, api: FakeBotApi) -> None:
    new = with_new_entry(marker="twice")
    proposal = await proposal_for(moderated, new)
    api.press(MOD, proposal.message, proposal.callback_data[0])
    api.press(MOD, proposal.message, proposal.callback_data[0])
    answers = await api.wait_for("answerCallbackQuery", count=2)
    texts = sorted(str(a.params.get("text")) for a in answers)
    assert texts == [
        "Applied.",
        "This proposal was already applied, cancelled, or has expired.",
    ]
    await api.quiet(0.2)
    assert len(moderated.library.history()) == 1
    assert len([c for c in moderated.to(MOD) if "applied</b>" in c.text]) == 1
    assert moderated.knowledge.read_bytes() == new


async def test_only_the_uploader_can_confirm_and_cancel_leaves_everything_as_it_was(
    moderated: Moderated, api: FakeBotApi
) -> None:
    proposal = await proposal_for(moderated, with_new_entry(marker="other_moderator"))
    confirm, cancel = proposal.callback_data
    before = moderated.snapshot()
    api.say(MOD2, "How much does DeepSeek-R1 cost?")  # a bot message of MOD2's own to press on
    (own,) = await api.wait_for("sendMessage", match=lambda c: c.params["chat_id"] == MOD2["id"])
    api.press(MOD2, own.message, confirm)
    (refused,) = await api.wait_for("answerCallbackQuery")
    assert refused.params["text"].startswith("Only the moderator who proposed")
    assert refused.params["show_alert"] is True
    assert moderated.snapshot() == before
    # The uploader cancels: nothing changes, and the proposal is gone for good.
    api.press(MOD, proposal.message, cancel)
    await moderated.said(MOD, "Cancelled.")
    api.press(MOD, proposal.message, confirm)
    late = (await api.wait_for("answerCallbackQuery", count=3))[2]
    assert "already applied, cancelled" in late.params["text"]
    assert moderated.snapshot() == before


async def test_a_confirm_after_the_file_changed_is_refused(
    moderated: Moderated, api: FakeBotApi
) -> None:
    await moderated.watching()
    proposal = await proposal_for(moderated, with_new_entry(marker="stale"))
    edited = with_new_entry()
    write_atomically(moderated.knowledge, edited)  # someone edits the file meanwhile
    await moderated.said(MOD, "Knowledge reloaded")
    api.press(MOD, proposal.message, proposal.callback_data[0])
    told = await moderated.said(MOD, "changed since this proposal")
    assert NOTHING_CHANGED in told.text and content_version(edited) in told.text
    assert moderated.knowledge.read_bytes() == edited
    assert moderated.live_version() == content_version(edited)
    # The version the hand edit replaced is kept; the refused proposal added nothing.
    assert [v.version for v in moderated.library.history()] == [SHIPPED_VERSION]


async def test_two_uploads_at_once_are_handled_one_after_the_other(
    moderated: Moderated, api: FakeBotApi
) -> None:
    first, second = with_new_entry(marker="first"), with_new_entry(marker="second")
    moderated.upload(first, "first.yaml")
    moderated.upload(second, "second.yaml")
    await moderated.said(MOD, "Proposed update", count=2)
    by_name = {
        ("first" if "first.yaml" in c.text else "second"): c
        for c in moderated.to(MOD)
        if "Proposed update" in c.text
    }
    api.press(MOD, by_name["first"].message, by_name["first"].callback_data[0])
    await moderated.said(MOD, "applied")
    api.press(MOD, by_name["second"].message, by_name["second"].callback_data[0])
    await moderated.said(MOD, "changed since this proposal")
    assert moderated.knowledge.read_bytes() == first
    assert len(moderated.library.history()) == 1


async def test_uploading_the_live_version_has_nothing_to_confirm(moderated: Moderated) -> None:
    moderated.upload(SHIPPED)
    told = await moderated.said(MOD, "live version already")
    assert told.callback_data == []


async def test_history_and_rollback(moderated: Moderated, api: FakeBotApi) -> None:
    api.say(MOD, "/history")
    assert "No earlier version yet" in (await moderated.said(MOD, "Live:")).text
    new = with_new_entry()
    proposal = await proposal_for(moderated, new)
    api.press(MOD, proposal.message, proposal.callback_data[0])
    await moderated.said(MOD, "applied")

    api.say(MOD, "/history")
    history = await moderated.said(MOD, "Live:", count=2)
    assert f"Live: version <code>{content_version(new)}</code>" in history.text
    assert "1. " in history.text and f"<code>{SHIPPED_VERSION}</code>" in history.text

    api.say(MOD, "/rollback")
    rolled = await moderated.said(MOD, "Rollback to version 1 applied")
    assert "Removed: zz_added_entry" in rolled.text
    assert moderated.knowledge.read_bytes() == SHIPPED
    assert moderated.live_version() == SHIPPED_VERSION
    # The version rolled back from is archived too: a rollback can be undone.
    assert [v.version for v in moderated.library.history()] == [
        content_version(new),
        SHIPPED_VERSION,
    ]
    told = await moderated.said(MOD2, "Knowledge rolled back")
    assert "by Maud" in told.text
    api.say(MOD, "/rollback 1")
    await moderated.said(MOD, "Rollback to version 1 applied", count=2)
    assert moderated.knowledge.read_bytes() == new

    before = moderated.snapshot()
    api.say(MOD, "/rollback 99")
    assert "no version 99" in (await moderated.said(MOD, NOTHING_CHANGED)).text
    api.say(MOD, "/rollback last")
    await moderated.said(MOD, "Usage: /rollback [N]")
    assert moderated.snapshot() == before


async def test_rollback_to_a_version_that_no_longer_validates_changes_nothing(
    moderated: Moderated, api: FakeBotApi
) -> None:
    moderated.history_dir.mkdir()
    (moderated.history_dir / "20200101T000000000000-000000000000.yaml").write_bytes(b"x: [")
    before = moderated.snapshot()
    api.say(MOD, "/rollback 1")
    told = await moderated.said(MOD, "Not applied")
    assert NOTHING_CHANGED in told.text and "YAML" in told.text
    assert moderated.snapshot() == before


async def test_lint_lists_the_report(moderated: Moderated, api: FakeBotApi) -> None:
    api.say(MOD, "/lint")
    report = await moderated.said(MOD, "<b>Lint</b>", timeout=15)
    assert f"version <code>{SHIPPED_VERSION}</code>" in report.text
    # A long report comes in several messages, the summary last.
    await moderated.said(MOD, "variants are answered by their own entry", timeout=15)
    parts = [c for c in moderated.to(MOD)]
    assert "variants are answered by their own entry" in parts[-1].text
    assert all(len(c.text) <= 4096 for c in parts)


# -- everyone else ----------------------------------------------------------------------------

GROUP = group_chat(-100777, "Moderation tests")
MOD_COMMANDS = ["/kb", "/reload", "/history", "/rollback 1", "/lint", "/misses 7", "/stats"]


async def test_everyone_else_gets_a_neutral_reply_that_leaks_nothing(
    moderated: Moderated, api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.telegram_moderation")
    proposal = await proposal_for(moderated, with_new_entry(marker="outsiders"))
    before = moderated.snapshot()
    attempts = 0
    for command in MOD_COMMANDS:
        api.say(EVE, command)
        update = api.message_update(EVE, command)
        api.inject({"edited_message": {**update["message"], "edit_date": 1}})
        attempts += 2
    api.say(EVE, "/kb", chat=GROUP)
    api.inject(api.document_update(EVE, with_new_entry(), "deepseek.yaml"))
    attempts += 2
    replies = await api.wait_for(
        "sendMessage",
        count=attempts,
        match=lambda c: c.params["chat_id"] in (EVE["id"], GROUP["id"]),
    )
    for data in (*proposal.callback_data, "m:var:whatever"):
        api.press(EVE, replies[0].message, data)
    pressed = await api.wait_for("answerCallbackQuery", count=3)
    await api.quiet(0.2)
    assert {c.text for c in replies} == {NOT_AVAILABLE}
    assert {str(a.params.get("text")) for a in pressed} == {NOT_AVAILABLE}
    leaked = [
        c.text
        for c in api.calls_to("sendMessage")
        if c.params["chat_id"] != MOD["id"]
        and (SHIPPED_VERSION in c.text or str(moderated.knowledge) in c.text)
    ]
    assert leaked == []
    assert len(api.calls_to("getFile")) == 1  # MOD's upload; Eve's is never fetched
    assert moderated.snapshot() == before
    assert sum("Refused" in r.getMessage() for r in caplog.records) == attempts + 3
    # The refusals consumed nothing: the uploader's Confirm still works.
    api.press(MOD, proposal.message, proposal.callback_data[0])
    await moderated.said(MOD, "applied")


async def test_moderator_ids_are_the_only_source_of_powers(
    runner: BotRunner, api: FakeBotApi, tmp_path: Path, shipped_engine: Engine
) -> None:
    # No moderators configured: the same neutral reply for everyone, MOD included.
    moderated = await start_moderated(
        runner, api, tmp_path / "kb", shipped_engine, moderator_ids=frozenset()
    )
    api.know_chat(private_chat(MOD))
    api.say(MOD, "/kb")
    assert (await moderated.said(MOD, NOT_AVAILABLE)).text == NOT_AVAILABLE
