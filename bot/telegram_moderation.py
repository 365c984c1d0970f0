"""Moderators in chat: knowledge status, reload, upload with a diff and Confirm, history,
rollback, lint, missed questions and statistics.

Thin handlers around `bot.library.Library` and the question log. Moderator powers depend only
on the sender's numeric user id being in MODERATOR_IDS, in a private chat, on a new message
(an edited or forwarded command is never run). Anyone else gets the same neutral "not
available" whatever they tried, and a log line: no path, no version, nothing about the file.
Moderators read English; every string from a user or a file is HTML-escaped here.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError

from bot.answers import Engine
from bot.knowledge import KnowledgeError, Lang
from bot.library import (
    MAX_UPLOAD_BYTES,
    ApplyResult,
    Change,
    Library,
    Proposal,
    ReloadHook,
    ReloadResult,
)
from bot.moderation import lint
from bot.storage import MissGroup, Stats, StorageUnavailable
from bot.telegram_handlers import (
    NO_PREVIEW,
    Context,
    Services,
    send_to_update,
    services,
    ui_lang,
)
from bot.telegram_render import MAX_BUTTON_LABEL, Rendered, shorten, split_html, ui_text
from bot.telegram_state import VariantAction

log = logging.getLogger(__name__)

MOD_COMMANDS = ("kb", "reload", "history", "rollback", "lint", "misses", "stats")
"""Commands only moderators can run."""
BUTTON_PREFIX = "m:"
"""Callback data of moderator buttons: m:ok:<proposal>, m:no:<proposal>, m:var:<action>."""
MAX_PROBLEMS = 200
"""Problems listed in one report; a file with more is summarised (`validate` lists them all)."""
DEFAULT_DAYS = 7
MAX_DAYS = 3650
MISSES_SHOWN = 10
YAML_SUFFIXES = (".yaml", ".yml")
NOTHING_CHANGED = "Nothing was changed."


def esc(text: object) -> str:
    """Escape anything for Telegram HTML."""
    return html.escape(str(text), quote=False)


def code(text: object) -> str:
    return f"<code>{esc(text)}</code>"


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


# -- who may --------------------------------------------------------------------------------


def is_moderator(svc: Services, user: User | None) -> bool:
    """Only the numeric id counts: not a name, not an admin right, not a forward's origin."""
    return user is not None and user.id in svc.moderators


def _private_new(update: Update) -> bool:
    """A new message typed in a private chat: an edit or a forward may replay other words."""
    message = update.message  # None for an edited message
    return (
        message is not None
        and message.chat.type == ChatType.PRIVATE
        and message.forward_origin is None
    )


async def refuse(update: Update, context: Context, what: str) -> None:
    """The neutral reply to a moderator action from anyone else (or in the wrong place)."""
    svc, user, chat = services(context), update.effective_user, update.effective_chat
    how = (
        "an edited message"
        if update.edited_message is not None
        else "a forwarded message"
        if update.effective_message is not None and update.effective_message.forward_origin
        else "a message"
    )
    log.warning(
        "Refused %s from user %s in a %s chat (%s)",
        what,
        user.id if user else "unknown",
        chat.type if chat else "unknown",
        how,
    )
    if user is not None and svc.limiter.check(user.id) != "ok":
        return  # refusals count against the question limit: no flood of replies
    await send_to_update(update, context, Rendered((ui_text(ui_lang(svc, user), "not_available"),)))


# -- sending --------------------------------------------------------------------------------


async def reply(
    update: Update, context: Context, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Send HTML to the moderator, split under Telegram's limit, buttons under the last part."""
    await send_to_update(update, context, Rendered(tuple(split_html(text)), keyboard))


async def notify(
    bot: Bot, moderators: Iterable[int], text: str, *, skip: int | None = None
) -> None:
    """Tell every moderator (but `skip`); one who never started the bot is logged, not fatal."""
    for moderator in sorted(moderators):
        if moderator == skip:
            continue
        try:
            for part in split_html(text):
                await bot.send_message(
                    moderator, part, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                )
        except TelegramError as exc:
            log.warning("Could not tell moderator %s: %s", moderator, exc.message)


def reload_notifier(bot: Bot, moderators: frozenset[int]) -> ReloadHook:
    """The hot reload's hook: what the watcher found, to every moderator."""

    async def on_news(result: ReloadResult) -> None:
        await notify(bot, moderators, reload_html(result, "the file changed"))

    return on_news


# -- texts ----------------------------------------------------------------------------------


def problems_html(problems: Iterable[str]) -> str:
    """Every problem, one per line (past `MAX_PROBLEMS`, a count and where to see them all)."""
    listed = list(problems)
    lines = [f"• {esc(p)}" for p in listed[:MAX_PROBLEMS]]
    if len(listed) > MAX_PROBLEMS:
        lines.append(
            f"… and {len(listed) - MAX_PROBLEMS} more: <code>python -m bot validate</code> "
            "lists them all."
        )
    return "\n".join(lines)


def _live(version: str, entries: int) -> str:
    return f"version {code(version)} ({entries} entries)"


def reload_html(result: ReloadResult, why: str = "on request") -> str:
    """What a reload found, for moderators; `why` says what triggered it."""
    live = _live(result.live_version, result.live_entries)
    if result.status == "reloaded" and result.change is not None:
        return f"<b>Knowledge reloaded</b> ({esc(why)}): " + change_html(result.change)
    if result.status == "unchanged":
        return f"The knowledge file is unchanged: {live} is live."
    if result.status == "restored":
        return f"The knowledge file is usable again: it is the live {live}."
    if result.status == "missing":
        return (
            "<b>The knowledge file is missing or unreadable</b>; still serving "
            f"{live}.\n{problems_html(result.problems)}"
        )
    return (
        f"<b>The knowledge file changed but cannot be used</b>; still serving {live}. "
        f"Problems:\n{problems_html(result.problems)}"
    )


def change_html(change: Change) -> str:
    return "\n".join(esc(line) for line in change.lines())


def proposal_html(proposal: Proposal) -> str:
    lines = [
        f"<b>Proposed update</b> ({esc(proposal.label)}): version {code(proposal.version)}, "
        f"{proposal.entry_count} entries; live now: "
        f"{_live(proposal.live_version, proposal.live_entries)}.",
        *(esc(line) for line in proposal.diff.lines()),
        "Confirm puts it live; the current file is kept in the history (/history, /rollback).",
    ]
    return "\n".join(lines)


def apply_html(result: ApplyResult, what: str) -> str:
    """The outcome of a Confirm or a rollback."""
    if result.status == "applied" and result.change is not None:
        return f"✅ <b>{esc(what)} applied</b>: " + change_html(result.change)
    if result.status == "stale":
        now = code(result.disk_version) if result.disk_version else "missing"
        return (
            f"Not applied: the knowledge file changed since this proposal (it is now {now}). "
            f"{NOTHING_CHANGED} Send the file again to see a fresh diff."
        )
    if result.status == "same":
        return f"That is the live version already. {NOTHING_CHANGED}"
    if result.status == "gone":
        return "This proposal was already applied, cancelled, or has expired."
    if result.status == "forbidden":
        return "Only the moderator who proposed this change can confirm or cancel it."
    return f"Not applied. {NOTHING_CHANGED}\n{problems_html(result.problems)}"


def confirm_keyboard(proposal: Proposal) -> InlineKeyboardMarkup:
    ok, no = f"{BUTTON_PREFIX}ok:{proposal.id}", f"{BUTTON_PREFIX}no:{proposal.id}"
    buttons = [
        InlineKeyboardButton("✅ Confirm", callback_data=ok),
        InlineKeyboardButton("✖️ Cancel", callback_data=no),
    ]
    return InlineKeyboardMarkup([buttons])


def _topic(engine: Engine, entry_id: str) -> str | None:
    entry = engine.kb.entry(entry_id)
    return entry.topic.en if entry is not None else None


def misses_html(groups: list[MissGroup], days: int, engine: Engine) -> str:
    if not groups:
        return f"No missed questions in the last {days} day(s)."
    lines = [
        f"<b>Missed questions, last {days} day(s)</b> "
        "(unanswered or 👎, near-duplicates grouped; most asked first):"
    ]
    for n, group in enumerate(groups, 1):
        votes = f", 👎 {group.downvotes}" if group.downvotes else ""
        line = f"{n}. «{esc(group.question)}» ×{group.count} [{esc(', '.join(group.langs))}]"
        if group.entry is not None:
            topic = _topic(engine, group.entry)
            where = esc(topic) if topic else "no longer in the knowledge"
            line += f" — closest: {where} ({code(group.entry)}, {group.best_score:.0f}){votes}"
        else:
            line += f" — nothing close{votes}"
        lines.append(line)
        others = [e for e in group.examples if e != group.question][:3]
        if others:
            lines.append("   also: " + " · ".join(f"«{esc(e)}»" for e in others))
    return "\n".join(lines)


def stats_html(stats: Stats, engine: Engine) -> str:
    rate = f"{stats.answer_rate:.0%}"
    small_talk = stats.total - stats.asked
    lines = [
        f"<b>Questions, last {stats.days} day(s)</b> (since {stats.since:%Y-%m-%d} UTC)",
        f"Asked: {stats.asked} (plus {small_talk} small talk or empty), "
        f"answered: {stats.answered} ({rate})",
        f"Feedback: 👍 {stats.up_votes} · 👎 {stats.down_votes}",
        "Per day (asked, answered):",
    ]
    days = [d for d in stats.per_day if d.questions] if stats.days > 31 else list(stats.per_day)
    lines += [f"{d.day:%Y-%m-%d}: {d.questions}, {d.answered}" for d in days[-31:]]
    if stats.most_asked:
        lines.append("Most asked:")
        lines += [
            f"• {esc(_topic(engine, e.entry) or e.entry)} ({code(e.entry)}) ×{e.count}"
            for e in stats.most_asked
        ]
    if stats.worst_rated:
        lines.append("Worst rated:")
        lines += [
            f"• {esc(_topic(engine, e.entry) or e.entry)} ({code(e.entry)}) 👎 {e.down} 👍 {e.up}"
            for e in stats.worst_rated
        ]
    return "\n".join(lines)


# -- commands -------------------------------------------------------------------------------

CommandBody = Callable[[Update, Context, Services, Library], Awaitable[None]]


async def moderator_command(update: Update, context: Context) -> None:
    """Every moderator command goes through here: who may, then what."""
    message = update.effective_message
    if message is None:
        return
    name = (message.text or "/").split()[0][1:].split("@")[0].lower()
    svc = services(context)
    body = _COMMANDS.get(name)
    if (
        body is None
        or svc.library is None
        or not is_moderator(svc, update.effective_user)
        or not _private_new(update)
    ):
        await refuse(update, context, f"/{name}")
        return
    await body(update, context, svc, svc.library)


async def kb_command(update: Update, context: Context, svc: Services, library: Library) -> None:
    """/kb: the live version, its size, the file, when it was loaded, and the last error."""
    status = await asyncio.to_thread(library.status)
    lines = [
        f"<b>Knowledge</b>: {_live(status.version, status.entry_count)}",
        f"File: {code(status.path)}",
        f"Loaded: {when(status.loaded_at)}",
    ]
    if status.disk_version != status.version:
        on_disk = code(status.disk_version) if status.disk_version else "missing"
        lines.append(f"The file on disk ({on_disk}) is not the live version.")
    if status.last_error:
        lines.append("Last error:\n" + problems_html(status.last_error))
    else:
        lines.append("Last error: none.")
    await reply(update, context, "\n".join(lines))


async def reload_command(update: Update, context: Context, svc: Services, library: Library) -> None:
    """/reload: the hot reload, on demand; news goes to every moderator."""
    result = await asyncio.to_thread(library.reload)
    await reply(update, context, reload_html(result))
    user = update.effective_user
    if result.status == "reloaded":
        who = user.full_name if user else "a moderator"
        await notify(
            context.bot,
            svc.moderators,
            reload_html(result, f"/reload by {who}"),
            skip=user.id if user else None,
        )


async def history_command(
    update: Update, context: Context, svc: Services, library: Library
) -> None:
    """/history: archived versions, newest first, numbered for /rollback."""
    versions = await asyncio.to_thread(library.history)
    status = library.status()
    lines = [f"Live: {_live(status.version, status.entry_count)}, loaded {when(status.loaded_at)}."]
    if not versions:
        lines.append("No earlier version yet: each replaced file is kept here (the last 20).")
    else:
        lines.append("Earlier versions, newest first (/rollback N restores one):")
        for n, version in enumerate(versions, 1):
            live = " (same as live)" if version.version == status.version else ""
            lines.append(f"{n}. {when(version.saved_at)} · {code(version.version)}{live}")
    await reply(update, context, "\n".join(lines))


async def rollback_command(
    update: Update, context: Context, svc: Services, library: Library
) -> None:
    """/rollback [N]: restore the N-th newest archived version (1 by default)."""
    args = context.args or []
    n = _int_arg(args, default=1, high=10_000)
    if n is None:
        await reply(update, context, "Usage: /rollback [N], N from /history (1 = most recent).")
        return
    result = await asyncio.to_thread(library.rollback, n)
    if result.status == "no_version":
        count = len(await asyncio.to_thread(library.history))
        await reply(
            update,
            context,
            f"There is no version {n} in the history (it has {count}). {NOTHING_CHANGED}",
        )
        return
    await reply(update, context, apply_html(result, f"Rollback to version {n}"))
    user = update.effective_user
    if result.status == "applied" and result.change is not None:
        who = esc(user.full_name) if user else "a moderator"
        await notify(
            context.bot,
            svc.moderators,
            f"<b>Knowledge rolled back</b> by {who}: {change_html(result.change)}",
            skip=user.id if user else None,
        )


async def lint_command(update: Update, context: Context, svc: Services, library: Library) -> None:
    """/lint: which variants another entry would answer (leave-one-out), in a thread."""
    engine = library.engine.current
    report = await asyncio.to_thread(lint, engine)
    head = (
        f"<b>Lint</b> of version {code(engine.version)}: "
        f"{len(report.collisions)} colliding pair(s)."
    )
    await reply(update, context, "\n".join([head, *(esc(line) for line in report.lines())]))


async def misses_command(update: Update, context: Context, svc: Services, library: Library) -> None:
    """/misses [days]: what the bot could not answer, each with "add as a variant"."""
    days = await _log_days(update, context, svc, "misses")
    if days is None or svc.questions is None:
        return
    try:
        groups = await svc.questions.misses(days, MISSES_SHOWN)
    except StorageUnavailable as exc:
        await reply(update, context, esc(exc))
        return
    engine = library.engine.current
    rows = []
    for n, group in enumerate(groups, 1):
        topic = _topic(engine, group.entry) if group.entry else None
        if topic is None or group.entry is None or group.lang not in ("fr", "en"):
            continue
        lang: Lang = "fr" if group.lang == "fr" else "en"
        key = svc.variants.add(VariantAction(group.entry, lang, group.question))
        label = shorten(f"➕ {n}. add as a variant of {topic}", MAX_BUTTON_LABEL)
        rows.append([InlineKeyboardButton(label, callback_data=f"{BUTTON_PREFIX}var:{key}")])
    keyboard = InlineKeyboardMarkup(rows) if rows else None
    await reply(update, context, misses_html(groups, days, engine), keyboard)


async def stats_command(update: Update, context: Context, svc: Services, library: Library) -> None:
    """/stats [days]: questions per day, answer rate, most asked and worst rated entries."""
    days = await _log_days(update, context, svc, "stats")
    if days is None or svc.questions is None:
        return
    try:
        stats = await svc.questions.stats(days)
    except StorageUnavailable as exc:
        await reply(update, context, esc(exc))
        return
    await reply(update, context, stats_html(stats, library.engine.current))


async def _log_days(update: Update, context: Context, svc: Services, command: str) -> int | None:
    """The [days] of a question-log command; None (the moderator told why) when it cannot run."""
    days = _int_arg(context.args or [], default=DEFAULT_DAYS, high=MAX_DAYS)
    if days is None:
        await reply(update, context, f"Usage: /{command} [days] (default {DEFAULT_DAYS}).")
        return None
    if svc.questions is None:
        await reply(update, context, "The question log is not available: nothing recorded.")
        return None
    return days


def _int_arg(args: list[str], *, default: int, high: int) -> int | None:
    """The first argument as an int in 1..high, `default` without one, None when invalid."""
    if not args:
        return default
    value = args[0]
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= high:
        return None
    return int(value)


_COMMANDS: dict[str, CommandBody] = {
    "kb": kb_command,
    "reload": reload_command,
    "history": history_command,
    "rollback": rollback_command,
    "lint": lint_command,
    "misses": misses_command,
    "stats": stats_command,
}


# -- upload ---------------------------------------------------------------------------------


async def upload(update: Update, context: Context) -> None:
    """A document in a private chat: a moderator's new knowledge file, validated and diffed.

    Nothing changes until its uploader presses Confirm. The file name is only shown, never
    used as a path.
    """
    svc, user, message = services(context), update.effective_user, update.effective_message
    if message is None or message.document is None:
        return
    library = svc.library
    # A forwarded file is fine: the moderator chose to send it. An edited one is not new.
    if library is None or user is None or not is_moderator(svc, user) or update.message is None:
        await refuse(update, context, "a document upload")
        return
    document = message.document
    name = document.file_name or "the file"
    if not name.lower().endswith(YAML_SUFFIXES):
        await reply(
            update,
            context,
            f"{esc(name)}: send the knowledge file as a document named .yaml or .yml. "
            + NOTHING_CHANGED,
        )
        return
    if document.file_size is not None and document.file_size > MAX_UPLOAD_BYTES:
        await reply(update, context, _too_big(name, document.file_size))
        return
    async with svc.uploads:  # two uploads at once: one after the other
        data = await _download(update, context, name)
        if data is None:
            return
        try:
            proposal = await asyncio.to_thread(
                library.propose, data, owner=user.id, label=f"upload of {name}"
            )
        except KnowledgeError as exc:
            live = library.engine.current
            await reply(
                update,
                context,
                f"<b>{esc(name)} cannot be used</b>. {NOTHING_CHANGED} Still serving "
                f"{_live(live.version, live.entry_count)}. Problems:\n"
                + problems_html(str(p) for p in exc.problems),
            )
            return
    await send_proposal(update, context, proposal)


async def _download(update: Update, context: Context, name: str) -> bytes | None:
    """The document's bytes, or None after telling the moderator why not."""
    message = update.effective_message
    assert message is not None and message.document is not None
    try:
        file = await message.document.get_file()
        if file.file_size is not None and file.file_size > MAX_UPLOAD_BYTES:
            await reply(update, context, _too_big(name, file.file_size))
            return None
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("Could not download an upload: %s", exc.message)
        await reply(
            update,
            context,
            f"Could not download {esc(name)} from Telegram ({esc(exc.message)}). "
            f"{NOTHING_CHANGED} Send it again.",
        )
        return None
    if len(data) > MAX_UPLOAD_BYTES:
        await reply(update, context, _too_big(name, len(data)))
        return None
    return data


def _too_big(name: str, size: int) -> str:
    return (
        f"{esc(name)} is too big ({size / (1024 * 1024):.1f} MB); the limit is "
        f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB. {NOTHING_CHANGED}"
    )


async def send_proposal(update: Update, context: Context, proposal: Proposal) -> None:
    """The diff and Confirm / Cancel, or a note that there is nothing to change."""
    if proposal.identical:
        await reply(
            update,
            context,
            f"This is the live version already ({code(proposal.version)}). {NOTHING_CHANGED}",
        )
        return
    await reply(update, context, proposal_html(proposal), confirm_keyboard(proposal))


# -- buttons --------------------------------------------------------------------------------


async def moderator_button(update: Update, context: Context) -> None:
    """Confirm, Cancel, or "add as a variant": only for moderators, in their private chat."""
    query = update.callback_query
    if query is None:
        return
    svc, user = services(context), query.from_user
    message = query.message if isinstance(query.message, Message) else None
    library = svc.library
    if (
        library is None
        or not is_moderator(svc, user)
        or message is None
        or message.chat.type != ChatType.PRIVATE
    ):
        log.warning("Refused a moderator button from user %s", user.id)
        await query.answer(ui_text(ui_lang(svc, user), "not_available"))
        return
    parts = (query.data or "").split(":")
    if len(parts) == 3 and parts[1] in ("ok", "no"):
        await _decide(update, context, svc, library, parts[2], confirm=parts[1] == "ok")
    elif len(parts) == 3 and parts[1] == "var":
        await _add_variant(update, context, svc, library, parts[2])
    else:
        await query.answer(ui_text("en", "expired"))


async def _decide(
    update: Update,
    context: Context,
    svc: Services,
    library: Library,
    proposal_id: str,
    *,
    confirm: bool,
) -> None:
    query = update.callback_query
    assert query is not None
    user = query.from_user
    pending = library.pending(proposal_id)
    if confirm:
        result = await asyncio.to_thread(library.apply, proposal_id, by=user.id)
    else:
        result = await asyncio.to_thread(library.cancel, proposal_id, by=user.id)
    if result.status in ("gone", "forbidden"):
        await query.answer(apply_html(result, ""), show_alert=result.status == "forbidden")
        return
    await query.answer("Applied." if result.status == "applied" else "Done.")
    await _drop_buttons(update)
    if not confirm:
        await reply(update, context, f"Cancelled. {NOTHING_CHANGED}")
        return
    label = pending.label if pending is not None else "update"
    await reply(update, context, apply_html(result, label[:1].upper() + label[1:]))
    if result.status == "applied" and result.change is not None:
        await notify(
            context.bot,
            svc.moderators,
            f"<b>Knowledge updated</b> by {esc(user.full_name)} ({esc(label)}): "
            + change_html(result.change),
            skip=user.id,
        )


async def _add_variant(
    update: Update, context: Context, svc: Services, library: Library, key: str
) -> None:
    query = update.callback_query
    assert query is not None
    action = svc.variants.get(key)
    if action is None:
        await query.answer(ui_text("en", "expired"))
        return
    await query.answer()
    try:
        proposal = await asyncio.to_thread(
            library.propose_variant,
            action.entry,
            action.lang,
            action.question,
            owner=query.from_user.id,
        )
    except KnowledgeError as exc:
        await reply(
            update,
            context,
            f"Cannot add «{esc(action.question)}» to {code(action.entry)}. {NOTHING_CHANGED}\n"
            + problems_html(str(p) for p in exc.problems),
        )
        return
    await send_proposal(update, context, proposal)


async def _drop_buttons(update: Update) -> None:
    """Take Confirm / Cancel off a decided proposal (cosmetic: failures are only logged)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:
        log.info("Could not remove the proposal's buttons: %s", exc.message)
