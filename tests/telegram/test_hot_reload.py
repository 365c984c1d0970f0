"""Hot reload: the bot watches its knowledge file, swaps in a valid edit and keeps serving the
last good version through a bad one, a deletion or a half-written save; /reload and /kb."""

from __future__ import annotations

from bot.knowledge import content_version
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.moderation_kit import (
    EVE,
    MOD,
    MOD2,
    SHIPPED,
    SHIPPED_VERSION,
    Moderated,
    with_new_entry,
    with_problems,
    write_atomically,
)

ZORGLUB = "What is the zorglub frobnicator?"


async def test_a_valid_edit_is_swapped_in_and_every_moderator_is_told(
    moderated: Moderated, api: FakeBotApi
) -> None:
    await moderated.watching()
    before = moderated.library.engine.current
    new = with_new_entry()
    write_atomically(moderated.knowledge, new)
    for moderator in (MOD, MOD2):
        told = await moderated.said(moderator, "Knowledge reloaded")
        assert "(the file changed)" in told.text
        assert f"version {content_version(new)} (was {SHIPPED_VERSION})" in told.text
        assert f"{before.entry_count + 1} entries" in told.text
        assert "Added: zz_added_entry" in told.text
    assert moderated.live_version() == content_version(new)
    api.say(EVE, ZORGLUB)
    answer = await moderated.said(EVE, "A test entry about the frobnicator.")
    assert answer.actions[0] == "fb:+:en:zz_added_entry"
    # The version the edit replaced is kept in the history, for /rollback.
    assert [name.split("-")[1] for name in moderated.history()] == [f"{SHIPPED_VERSION}.yaml"]


async def test_an_invalid_edit_keeps_the_last_good_version_and_lists_every_problem(
    moderated: Moderated, api: FakeBotApi
) -> None:
    await moderated.watching()
    write_atomically(moderated.knowledge, with_problems())
    told = await moderated.said(MOD, "cannot be used")
    assert f"still serving version <code>{SHIPPED_VERSION}</code>" in told.text
    problems = [line for line in told.text.splitlines() if line.startswith("• ")]
    assert len(problems) == 2  # every problem, one per line, each with its line number
    assert all("(line " in p for p in problems)
    assert "zz_no_answer" in problems[0] and "answer: is missing" in problems[0]
    assert "zz_unknown_field" in problems[1] and "colour: is not a known field" in problems[1]
    await moderated.said(MOD2, "cannot be used")
    assert moderated.live_version() == SHIPPED_VERSION
    api.say(EVE, "How much does DeepSeek-R1 cost?")  # still answering, from the old version
    await moderated.said(EVE, "$2.2 per million tokens")
    api.say(MOD, "/kb")
    kb = await moderated.said(MOD, "Last error:")
    assert "is not the live version" in kb.text and "zz_no_answer" in kb.text
    # The fix is picked up like any edit.
    write_atomically(moderated.knowledge, with_new_entry())
    await moderated.said(MOD, "Knowledge reloaded")
    api.say(MOD, "/kb")
    assert "Last error: none." in (await moderated.said(MOD, "<b>Knowledge</b>", count=2)).text


async def test_a_deleted_file_keeps_serving_and_the_moderators_are_told(
    moderated: Moderated, api: FakeBotApi
) -> None:
    await moderated.watching()
    moderated.knowledge.unlink()
    told = await moderated.said(MOD, "missing or unreadable")
    assert f"still serving version <code>{SHIPPED_VERSION}</code>" in told.text
    assert "file not found" in told.text
    api.say(EVE, "How much does DeepSeek-R1 cost?")
    await moderated.said(EVE, "$2.2 per million tokens")
    api.say(MOD, "/kb")
    assert "(missing) is not the live version" in (await moderated.said(MOD, "File:")).text
    # Put back as it was: usable again, nothing to reload.
    moderated.knowledge.write_bytes(SHIPPED)
    await moderated.said(MOD, "usable again")
    assert moderated.live_version() == SHIPPED_VERSION


async def test_a_half_written_file_is_reported_then_the_complete_save_goes_live(
    moderated: Moderated,
) -> None:
    await moderated.watching()
    new = with_new_entry()
    half = len(new) // 2
    with moderated.knowledge.open("wb") as handle:  # a slow writer, in place
        handle.write(new[:half])
        handle.flush()
        await moderated.said(MOD, "cannot be used")
        assert moderated.live_version() == SHIPPED_VERSION
        handle.write(new[half:])
    told = await moderated.said(MOD, "Knowledge reloaded")
    assert content_version(new) in told.text
    assert moderated.live_version() == content_version(new)


async def test_reload_and_kb_on_demand(moderated: Moderated) -> None:
    await moderated.watching()
    api = moderated.api
    api.say(MOD, "/kb")
    kb = await moderated.said(MOD, "<b>Knowledge</b>")
    entries = moderated.library.engine.current.entry_count
    assert f"version <code>{SHIPPED_VERSION}</code> ({entries} entries)" in kb.text
    assert f"File: <code>{moderated.knowledge}</code>" in kb.text
    assert "Loaded: " in kb.text and " UTC" in kb.text
    assert "Last error: none." in kb.text
    api.say(MOD, "/reload")
    assert "unchanged" in (await moderated.said(MOD, "knowledge file")).text
    # /reload runs the same path as the watcher: a bad file is reported to whoever asked.
    moderated.library.watching.clear()
    write_atomically(moderated.knowledge, with_problems())
    api.say(MOD, "/reload")
    report = await moderated.said(MOD, "cannot be used")
    assert "zz_unknown_field" in report.text
    assert moderated.live_version() == SHIPPED_VERSION
