"""Thin async handlers: read the update, ask the engine, send what `telegram_render` built.

No handler scores or words anything itself: the engine decides what to answer, the renderer
how it looks. Each handler reads `EngineRef.current` once, so a knowledge swap in the middle
of an answer cannot mix two versions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import cast

from telegram import (
    InlineQueryResultsButton,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ContextTypes

from bot.answers import EngineRef, Reply
from bot.knowledge import Lang
from bot.library import Library
from bot.storage import QuestionLog
from bot.telegram_render import (
    MAX_INLINE_RESULTS,
    AnswerAction,
    Rendered,
    Vote,
    VoteAction,
    decode_action,
    help_text,
    inline_results,
    render,
    topic_titles,
    ui_text,
    welcome,
    without_vote_row,
)
from bot.telegram_state import (
    LanguagePrefs,
    PendingActions,
    QuestionLimiter,
    VariantAction,
)

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
SERVICES_KEY = "services"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class Feedback:
    """A 👍/👎 on an answer."""

    user_id: int
    chat_id: int | None
    chat_type: str | None
    entry: str
    lang: Lang
    vote: Vote


FeedbackHook = Callable[[Feedback], Awaitable[None]]


async def log_feedback(feedback: Feedback) -> None:
    """The default feedback hook: a log line (no user id); the question log gets the vote too."""
    log.info(
        "Feedback %s on entry %s (%s, %s chat)",
        feedback.vote,
        feedback.entry,
        feedback.lang,
        feedback.chat_type or "inline",
    )


RECORD_TIMEOUT = 2.0
"""Seconds a reply waits for the question log's row id; after that it goes without one."""


@dataclass
class Services:
    """What the handlers need, built once in `telegram_app` and kept in `bot_data`."""

    engine: EngineRef
    prefs: LanguagePrefs
    limiter: QuestionLimiter
    on_feedback: FeedbackHook = field(default=log_feedback)
    library: Library | None = None
    """The knowledge in service and its file (moderator commands, hot reload)."""
    moderators: frozenset[int] = frozenset()
    """Telegram user ids with moderator powers: nothing else grants them."""
    questions: QuestionLog | None = None
    """The question log, once opened; None when it could not be (answers go on regardless)."""
    uploads: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Uploads are downloaded and validated one after the other."""
    variants: PendingActions[VariantAction] = field(default_factory=PendingActions)
    """The "add as a variant" buttons of /misses, by their short id."""
    """Who asked each recorded question: only they may vote on its answer."""


def services(context: Context) -> Services:
    """The bot's services, from the application's `bot_data`."""
    return cast(Services, context.bot_data[SERVICES_KEY])


# -- language --------------------------------------------------------------------------------


def telegram_lang(user: User | None) -> Lang | None:
    """French or English from the user's Telegram interface language, if it is one of them."""
    code = (user.language_code or "") if user is not None else ""
    if code.lower().startswith("fr"):
        return "fr"
    if code.lower().startswith("en"):
        return "en"
    return None


def lang_hint(svc: Services, user: User | None) -> Lang | None:
    """What to answer in when a question's own language is unclear: /lang, then Telegram's."""
    chosen = svc.prefs.get(user.id) if user is not None else None
    return chosen or telegram_lang(user)


def ui_lang(svc: Services, user: User | None) -> Lang:
    """The language of command replies: /lang, then Telegram's, else English."""
    return lang_hint(svc, user) or "en"


# -- sending ---------------------------------------------------------------------------------


async def send(
    context: Context, chat_id: int, rendered: Rendered, *, reply_to: int | None = None
) -> list[Message]:
    """Send every part of a rendered reply; buttons go under the last part."""
    sent: list[Message] = []
    last = len(rendered.texts) - 1
    for i, text in enumerate(rendered.texts):
        sent.append(
            await _retrying(
                partial(
                    context.bot.send_message,
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                    reply_markup=rendered.keyboard if i == last else None,
                    reply_parameters=(
                        ReplyParameters(reply_to, allow_sending_without_reply=True)
                        if reply_to is not None and i == 0
                        else None
                    ),
                )
            )
        )
    return sent


SEND_RETRIES = (0.5, 2.0)
"""Pauses before sending again after a server error (5xx) or a refused connection."""


async def _retrying(call: Callable[[], Awaitable[Message]]) -> Message:
    """Send again when Telegram answered with a server error or could not be reached.

    Such a message was not delivered, so a retry cannot duplicate it. A timeout is not
    retried: the message may have arrived, and a user must never get an answer twice.
    (`RetryAfter` is the rate limiter's business; other errors are the error handler's.)
    """
    for pause in SEND_RETRIES:
        try:
            return await call()
        except (TimedOut, BadRequest):  # may have arrived; or will never be accepted
            raise
        except NetworkError as exc:
            log.info("Sending failed (%s); again in %.1f s", exc.message, pause)
            await asyncio.sleep(pause)
    return await call()


async def send_html(update: Update, context: Context, text: str) -> None:
    """Send one fixed HTML text to the update's chat (quoting the message in groups)."""
    await send_to_update(update, context, Rendered((text,)))


async def send_to_update(update: Update, context: Context, rendered: Rendered) -> None:
    """Send a reply to the chat the update came from; in groups, as a reply to the message."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return
    quote = message.message_id if message is not None and chat.type != ChatType.PRIVATE else None
    await send(context, chat.id, rendered, reply_to=quote)


# -- questions -------------------------------------------------------------------------------


async def answer_question(update: Update, context: Context, question: str) -> None:
    """The one path every question takes: rate limit, engine, render, send."""
    svc = services(context)
    user = update.effective_user
    if user is not None:
        verdict = svc.limiter.check(user.id)
        if verdict == "drop":
            return
        if verdict == "notify":
            lang = ui_lang(svc, user)
            await send_html(
                update, context, ui_text(lang, "slow_down", limit=str(svc.limiter.limit))
            )
            return
    reply = svc.engine.current.ask(question, lang_hint=lang_hint(svc, user))
    chat = update.effective_chat
    row = await record(svc, reply, chat.type if chat else "private", user)
    await send_to_update(update, context, render(reply, row=row))


async def record(svc: Services, reply: Reply, chat_type: str, user: User | None) -> int | None:
    """Log a question, best effort: a slow or dead database never holds a reply for long.

    The entry is the closest one even when the bot abstained: that is what `/misses` shows.
    """
    if svc.questions is None:
        return None
    task = asyncio.ensure_future(
        svc.questions.record_reply(
            reply, chat_type=chat_type, user_id=user.id if user is not None else None
        )
    )
    try:
        # Shielded: past the timeout the row is still written, the reply just has no row id.
        row = await asyncio.wait_for(asyncio.shield(task), RECORD_TIMEOUT)
    except TimeoutError:
        log.warning("Question log too slow: reply sent without a feedback row")
        return None
    return row


async def private_text(update: Update, context: Context) -> None:
    """In a private chat, any text message is a question."""
    if update.effective_message is not None:
        await answer_question(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: Context) -> None:
    """In a group, answer only when addressed: mentioned, or replied to."""
    message = update.effective_message
    if message is None:
        return
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is not None:
        await answer_question(update, context, question)


def addressed_question(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question if `message` is addressed to the bot (mention or reply), else None."""
    text = message.text or ""
    mentions = [
        entity
        for entity, value in message.parse_entities(
            [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        ).items()
        if (entity.type == MessageEntity.MENTION and value.lower() == f"@{bot_username.lower()}")
        or (entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id)
    ]
    if mentions:
        for entity in mentions:
            text = text.replace(message.parse_entity(entity), " ")
        return " ".join(text.split())
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


# -- commands --------------------------------------------------------------------------------


async def start_command(update: Update, context: Context) -> None:
    """/start: a welcome in the user's language."""
    svc, user = services(context), update.effective_user
    await send_html(update, context, welcome(ui_lang(svc, user), user.first_name if user else None))


async def help_command(update: Update, context: Context) -> None:
    """/help: how to ask, with examples."""
    lang = ui_lang(services(context), update.effective_user)
    await send_html(update, context, help_text(lang, context.bot.username))


async def topics_command(update: Update, context: Context) -> None:
    """/topics: every topic as a button; a press answers in a new message."""
    svc = services(context)
    reply = svc.engine.current.topics(ui_lang(svc, update.effective_user))
    await send_to_update(update, context, render(reply, pick="new"))


async def figures_command(update: Update, context: Context) -> None:
    """/figures: every key figure of the article in one list."""
    svc = services(context)
    reply = svc.engine.current.figures_overview(ui_lang(svc, update.effective_user))
    await send_to_update(update, context, render(reply))


async def source_command(update: Update, context: Context) -> None:
    """/source: what the article is and whom it cites."""
    svc = services(context)
    reply = svc.engine.current.about(ui_lang(svc, update.effective_user))
    await send_to_update(update, context, render(reply))


async def lang_command(update: Update, context: Context) -> None:
    """/lang fr|en: remember the user's language; without a valid argument, explain."""
    svc, user = services(context), update.effective_user
    choice = (context.args or [""])[0].lower()
    if user is not None and choice in ("fr", "en"):
        lang: Lang = "fr" if choice == "fr" else "en"
        svc.prefs.set(user.id, lang)
        await send_html(update, context, ui_text(lang, "lang_set"))
        return
    await send_html(update, context, ui_text(ui_lang(svc, user), "lang_usage"))


async def ask_command(update: Update, context: Context) -> None:
    """/ask question: the way to ask in a group without mentioning the bot."""
    await answer_question(update, context, " ".join(context.args or []))


async def unknown_command(update: Update, context: Context) -> None:
    """A command we do not know, in a private chat: point to /help."""
    lang = ui_lang(services(context), update.effective_user)
    await send_html(update, context, ui_text(lang, "unknown_command"))


# -- buttons ---------------------------------------------------------------------------------


async def button(update: Update, context: Context) -> None:
    """A pressed inline button: an entry to answer, or feedback on an answer."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    action = decode_action(query.data)
    if action is None:
        await query.answer(ui_text(ui_lang(svc, query.from_user), "expired"))
        return
    message = query.message if isinstance(query.message, Message) else None
    chat = message.chat if message is not None else None
    if isinstance(action, VoteAction):
        feedback = Feedback(
            user_id=query.from_user.id,
            chat_id=chat.id if chat else None,
            chat_type=chat.type if chat else None,
            entry=action.entry,
            lang=action.lang,
            vote=action.vote,
        )
        await svc.on_feedback(feedback)
        if action.row is not None and svc.questions is not None:
            vote = 1 if action.vote == "+" else -1
            if not await svc.questions.feedback(action.row, vote, user_id=query.from_user.id):
                # a replayed or forged button, or the log is down: thanked, not counted
                log.info("Vote on question %s not counted", action.row)
        await query.answer(ui_text(action.lang, "thanks"))
        if message is not None and message.reply_markup is not None:
            try:
                await query.edit_message_reply_markup(without_vote_row(message.reply_markup))
            except BadRequest as exc:  # pressed twice: the row is already gone
                if "not modified" not in exc.message:
                    raise
        return
    await query.answer()
    if message is None or chat is None:
        return  # a button on a message we can no longer reach
    await answer_entry(context, action, message)


async def answer_entry(context: Context, action: AnswerAction, message: Message) -> None:
    """Answer a chosen entry: in place of `message` ("replace"), or as a new message."""
    svc = services(context)
    rendered = render(svc.engine.current.reply_for(action.entry, action.lang))
    if action.pick == "replace":
        first, rest = rendered.texts[0], rendered.texts[1:]
        try:
            await message.edit_text(
                first,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=rendered.keyboard if not rest else None,
            )
        except BadRequest as exc:
            if "not modified" in exc.message:
                return  # a double tap: the first one already answered
            # Too old to edit, or deleted: answer in a new message instead.
            log.info("Could not edit message, sending a new one: %s", exc.message)
        else:
            if rest:
                await send(context, message.chat.id, Rendered(rest, rendered.keyboard))
            return
    quote = message.message_id if message.chat.type != ChatType.PRIVATE else None
    await send(context, message.chat.id, rendered, reply_to=quote)


# -- inline mode -----------------------------------------------------------------------------


async def inline_query(update: Update, context: Context) -> None:
    """`@bot question`: up to 5 answers; an empty query lists every topic."""
    query = update.inline_query
    if query is None:
        return
    svc = services(context)
    engine = svc.engine.current
    text = query.query.strip()
    hint = lang_hint(svc, query.from_user)
    if text:
        replies = engine.search(text, lang_hint=hint, limit=MAX_INLINE_RESULTS)
        lang = replies[0].lang if replies else engine.language(text, hint)
        limit = MAX_INLINE_RESULTS
    else:
        lang = hint or "en"
        limit = 50  # Telegram shows at most 50 results: build only those replies
        replies = [engine.reply_for(s.entry, lang) for s in engine.topics(lang).suggestions[:limit]]
    results = inline_results(replies, topic_titles(engine.topics(lang)), limit=limit)
    await query.answer(
        results,
        cache_time=60,
        is_personal=True,
        button=InlineQueryResultsButton(ui_text(lang, "inline_more"), start_parameter="inline"),
    )
    if text:  # after answering: inline answers are due within seconds
        best = replies[0] if replies else Reply(text, "fallback", lang, "")
        await record(svc, best, "inline", query.from_user)


# -- errors ----------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log a failed update (never its content, never the token) and keep going.

    A user who blocked the bot is skipped; flood control and network trouble are logged
    without a traceback (the rate limiter and the library already retried); anything else
    is a bug: logged in full, and in a private chat the user gets a short apology.
    """
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        log.info("Update %s: skipped, the bot cannot write there (%s)", update_id, error.message)
        return
    if isinstance(error, RetryAfter):
        # The rate limiter already waited and retried; this reply is given up on.
        log.warning("Update %s: reply dropped after flood control (%s)", update_id, error.message)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        log.warning("Update %s: network error talking to Telegram: %s", update_id, error.message)
        return
    log.error("Update %s failed", update_id, exc_info=error)
    if isinstance(error, TelegramError) or not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        lang = ui_lang(services(context), update.effective_user)
        try:
            await context.bot.send_message(chat.id, ui_text(lang, "error"))
        except TelegramError as exc:
            log.info("Update %s: could not send the apology either: %s", update_id, exc.message)
