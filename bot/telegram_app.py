"""The Telegram bot: build the Application in one place, then poll or serve a webhook.

`run(settings)` is what `python -m bot run` calls. Everything the bot does is registered in
`register_handlers`; the handlers themselves live in `telegram_handlers`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, MessageEntity, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from tornado.httpserver import HTTPServer

from bot.answers import Engine, EngineRef
from bot.knowledge import KnowledgeError, Lang
from bot.library import Library, watch
from bot.moderation import KnowledgeFile
from bot.settings import Settings
from bot.storage import QuestionLog, StorageUnavailable
from bot.telegram_handlers import (
    SERVICES_KEY,
    Context,
    FeedbackHook,
    Services,
    ask_command,
    button,
    figures_command,
    group_text,
    help_command,
    inline_query,
    lang_command,
    log_feedback,
    on_error,
    private_text,
    source_command,
    start_command,
    topics_command,
    unknown_command,
)
from bot.telegram_moderation import (
    BUTTON_PREFIX,
    MOD_COMMANDS,
    moderator_button,
    moderator_command,
    reload_notifier,
    upload,
)
from bot.telegram_render import bot_commands
from bot.telegram_state import PREFS_FILE, LanguagePrefs, QuestionLimiter

log = logging.getLogger(__name__)

BotApp = Application[Any, Any, Any, Any, Any, Any]
ReadyHook = Callable[[BotApp], None]

TOKEN_FORMAT = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,100}$")
"""What @BotFather hands out: the bot's numeric id, a colon, then a long secret."""
SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
"""What Telegram accepts as a webhook `secret_token`."""

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
"""Only what we handle: edits, channel posts and the rest are never even fetched."""

CONCURRENT_UPDATES = 16
"""Updates handled at once. Measured on loopback with 50 ms added per sendMessage (500 users,
rate limiter off): 4 -> 60/s, 8 -> 110/s, 16 -> 140/s, 32 -> 80/s, 256 -> 45/s. Telegram
itself caps a bot near 30 messages/s, so 16 leaves room for slow links without the pool
bookkeeping that makes bigger numbers slower."""
CONNECTION_POOL = CONCURRENT_UPDATES
"""One connection per update in flight (getUpdates has its own)."""
RATE_LIMIT_RETRIES = 3
"""How often the rate limiter waits out a 429 `retry_after` before giving up on a message."""
BOOTSTRAP_RETRIES = 3
"""Start-up calls retried on network errors (not on a rejected token)."""
DEFAULT_STOP_SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)
MAX_WEBHOOK_BODY = 1024 * 1024
"""Largest webhook request read: a Telegram update is a few kB, at most a few hundred."""
PURGE_EVERY = timedelta(days=1)
"""The question log drops what is older than RETENTION_DAYS at start, then this often."""


class ConfigError(Exception):
    """A setting the bot cannot start with; the message is one line for the operator."""


# -- logging ---------------------------------------------------------------------------------


class SecretRedactor(logging.Filter):
    """Replaces secrets (the bot token, the webhook secret) in log records, tracebacks included.

    The HTTP client logs request URLs, which contain the token, and the library puts the
    token in some exception messages: we redact every record when it is created, whatever
    logger or handler it goes to.
    """

    MASK = "[REDACTED]"

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, *secrets: str) -> None:
        """Redact these strings from now on (a token's secret half is redacted on its own too)."""
        for secret in secrets:
            if len(secret) >= 8:
                self._secrets.add(secret)
                if ":" in secret:
                    self._secrets.add(secret.split(":", 1)[1])

    def redact(self, text: str) -> str:
        """`text` with every known secret masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, self.MASK)
        return text

    def _leaks(self, text: str) -> bool:
        return any(secret in text for secret in self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it later, as usual
            return True
        if self._leaks(message):
            record.msg, record.args = self.redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self._leaks(text):
                # The exception object itself still holds the secret: keep only the text.
                record.exc_text, record.exc_info = self.redact(text), None
        elif record.exc_text and self._leaks(record.exc_text):
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info and self._leaks(record.stack_info):
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTOR = SecretRedactor()
_factory_installed = False


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Log at `level` with `secrets` redacted everywhere; keep httpx's per-request lines quiet."""
    global _factory_installed
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    REDACTOR.add(*secrets)
    for handler in root.handlers:
        if REDACTOR not in handler.filters:
            handler.addFilter(REDACTOR)
    if not _factory_installed:
        # A filter on a handler misses records routed to other handlers (a test's log capture,
        # a library's own handler); redacting at creation covers them all.
        previous = logging.getLogRecordFactory()

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            REDACTOR.filter(record)
            return record

        logging.setLogRecordFactory(redacting_factory)
        _factory_installed = True


# -- settings --------------------------------------------------------------------------------


def check_settings(settings: Settings) -> tuple[str, str | None]:
    """The token and webhook secret, validated; raises ConfigError with a one-line reason."""
    if settings.telegram_bot_token is None:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and put it in .env"
        )
    token = settings.telegram_bot_token.get_secret_value().strip()
    if not TOKEN_FORMAT.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is malformed: expected <digits>:<secret> as given by @BotFather"
        )
    if not isinstance(logging.getLevelName(settings.log_level.upper()), int):
        raise ConfigError(f"LOG_LEVEL {settings.log_level!r} is not a logging level")
    secret: str | None = None
    if settings.webhook_url:
        if settings.webhook_secret is None:
            raise ConfigError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        secret = settings.webhook_secret.get_secret_value()
        if not SECRET_FORMAT.match(secret):
            raise ConfigError(
                "WEBHOOK_SECRET must be 1-256 characters among A-Z, a-z, 0-9, _ and -"
            )
        if urlsplit(settings.webhook_url).scheme not in ("http", "https"):
            raise ConfigError("WEBHOOK_URL must be an https:// URL (http:// for a local Bot API)")
    return token, secret


# -- building --------------------------------------------------------------------------------


def build_application(
    settings: Settings,
    engine: EngineRef,
    *,
    on_ready: ReadyHook | None = None,
    on_feedback: FeedbackHook = log_feedback,
) -> BotApp:
    """The Application, with every handler registered. Raises ConfigError on bad settings.

    Starting it also opens the question log, starts watching the knowledge file and
    schedules the log's purge; stopping it undoes all three.
    """
    token, _ = check_settings(settings)
    svc = Services(
        engine=engine,
        prefs=LanguagePrefs(settings.data_dir / PREFS_FILE),
        limiter=QuestionLimiter(settings.user_rate_limit),
        on_feedback=on_feedback,
        library=Library(engine, KnowledgeFile(settings.knowledge_path)),
        moderators=settings.moderator_ids,
    )
    background: list[asyncio.Task[Any]] = []
    stop_watching = asyncio.Event()

    async def post_init(app: BotApp) -> None:
        await set_commands(app.bot)
        svc.questions = await open_question_log(settings)
        if svc.library is not None:
            notifier = reload_notifier(app.bot, settings.moderator_ids)
            background.append(asyncio.create_task(watch(svc.library, notifier, stop=stop_watching)))
        background.append(asyncio.create_task(purge_questions(svc, settings.retention_days)))
        if app.job_queue is not None:
            app.job_queue.run_repeating(purge_job, interval=PURGE_EVERY, first=PURGE_EVERY)
        else:
            log.warning("No job queue (python-telegram-bot[job-queue]): purging at start only")
        if on_ready is not None:
            on_ready(app)

    async def post_stop(app: BotApp) -> None:
        stop_watching.set()
        for task in background:
            try:
                await asyncio.wait_for(task, 5.0)
            except TimeoutError:
                log.warning("A background task did not stop in time; cancelled")
            except Exception:
                log.exception("A background task failed")

    async def post_shutdown(app: BotApp) -> None:
        if svc.questions is not None:
            await svc.questions.close()

    app: BotApp = (
        Application.builder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONNECTION_POOL)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data[SERVICES_KEY] = svc
    app.bot_data[RETENTION_KEY] = settings.retention_days
    register_handlers(app)
    return app


RETENTION_KEY = "retention_days"


async def open_question_log(settings: Settings) -> QuestionLog | None:
    """The question log, or None: a bad DATABASE_URL is logged and the bot answers anyway."""
    try:
        return await QuestionLog.from_settings(settings)
    except Exception as exc:  # a bad URL or key: configuration, never a reason not to answer
        log.error("The question log is disabled: %s", exc)
        return None


async def purge_questions(svc: Services, retention_days: int) -> None:
    """Drop questions older than the retention; a database that is down is only logged."""
    if svc.questions is None:
        return
    try:
        await svc.questions.purge(retention_days)
    except (StorageUnavailable, ValueError) as exc:
        log.warning("Question log purge skipped: %s", exc)


async def purge_job(context: Context) -> None:
    """The daily purge, from the job queue."""
    from bot.telegram_handlers import services

    await purge_questions(services(context), int(context.bot_data[RETENTION_KEY]))


def register_handlers(app: BotApp) -> None:
    """Every handler of the bot, in one place (order matters within a group: first match wins)."""
    new = filters.UpdateType.MESSAGE  # edited messages are not questions
    private = filters.ChatType.PRIVATE & new
    groups = filters.ChatType.GROUPS & new
    addressed = (
        filters.Entity(MessageEntity.MENTION)
        | filters.Entity(MessageEntity.TEXT_MENTION)
        | filters.REPLY
    )
    # Moderator commands first, edited messages included: anyone else gets "not available".
    app.add_handler(
        CommandHandler(list(MOD_COMMANDS), moderator_command, filters=filters.UpdateType.MESSAGES)
    )
    app.add_handler(CommandHandler("start", start_command, filters=new))
    app.add_handler(CommandHandler("help", help_command, filters=new))
    app.add_handler(CommandHandler("topics", topics_command, filters=new))
    app.add_handler(CommandHandler("figures", figures_command, filters=new))
    app.add_handler(CommandHandler("source", source_command, filters=new))
    app.add_handler(CommandHandler("lang", lang_command, filters=new))
    app.add_handler(CommandHandler("ask", ask_command, filters=new))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, private_text))
    app.add_handler(
        MessageHandler(groups & filters.TEXT & ~filters.COMMAND & addressed, group_text)
    )
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, upload))
    app.add_handler(CallbackQueryHandler(moderator_button, pattern=f"^{BUTTON_PREFIX}"))
    app.add_handler(CallbackQueryHandler(button))
    app.add_handler(InlineQueryHandler(inline_query))
    # Last: any other command in private gets a pointer to /help (new commands go above).
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_error_handler(on_error)


async def set_commands(bot: Bot) -> None:
    """The command menu in English (default) and French; a server refusing it is not fatal."""
    menus: tuple[tuple[str | None, Lang], ...] = ((None, "en"), ("fr", "fr"), ("en", "en"))
    for language_code, lang in menus:
        try:
            await bot.set_my_commands(bot_commands(lang), language_code=language_code)
        except TelegramError as exc:
            log.warning(
                "setMyCommands (%s) failed, going on without it: %s",
                language_code or "default",
                exc.message,
            )


# -- running ---------------------------------------------------------------------------------


def run(
    settings: Settings,
    *,
    engine: EngineRef | None = None,
    stop_signals: Sequence[int] | None = DEFAULT_STOP_SIGNALS,
    on_ready: ReadyHook | None = None,
) -> int:
    """Run the bot until SIGINT/SIGTERM; returns the process exit code.

    2: a setting is missing or wrong (token, webhook secret), or Telegram rejects the token;
    1: the knowledge file cannot be used, or the Bot API cannot be reached; 0: clean stop.
    Errors are one line on stderr, never a traceback, never the token. `engine`,
    `stop_signals` and `on_ready` exist for tests and embedding (a thread has no signals).
    """
    try:
        token, secret = check_settings(settings)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, [token, *([secret] if secret else [])])
    # Opt in to PTB's timedelta durations now: we read none of them, and the library would
    # otherwise print a deprecation warning at the first 429 it receives.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    if engine is None:
        try:
            engine = EngineRef(Engine.from_path(settings.knowledge_path))
        except KnowledgeError as exc:
            print(
                f"error: cannot use the knowledge file {settings.knowledge_path}:", file=sys.stderr
            )
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
    app = build_application(settings, engine, on_ready=on_ready)
    # The knowledge, its index and the libraries live as long as the process: out of the
    # collector's sight, a full collection no longer walks them all (hundreds of thousands
    # of objects for a large knowledge base) while updates wait.
    gc.freeze()
    current = engine.current
    log.info(
        "Starting the bot (%s mode): knowledge version %s, %d entries",
        "webhook" if settings.webhook_url else "polling",
        current.version,
        current.entry_count,
    )
    try:
        if settings.webhook_url:
            # PTB's webhook server (tornado) reads a whole body, up to 100 MB, before it checks
            # the secret: cap it so an outsider cannot make us buffer more than an update.
            HTTPServer.configure(None, max_body_size=MAX_WEBHOOK_BODY)
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=BOOTSTRAP_RETRIES,
                stop_signals=stop_signals,
            )
        else:
            app.run_polling(
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=BOOTSTRAP_RETRIES,
                stop_signals=stop_signals,
            )
    except InvalidToken:
        print(
            "error: Telegram rejected TELEGRAM_BOT_TOKEN (revoked or mistyped? "
            "check it with @BotFather)",
            file=sys.stderr,
        )
        return 2
    except TelegramError as exc:
        print(
            f"error: the Telegram Bot API failed: {REDACTOR.redact(exc.message)}", file=sys.stderr
        )
        return 1
    except OSError as exc:
        where = f"{settings.webhook_listen}:{settings.webhook_port}"
        print(f"error: cannot listen on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    log.info("Bot stopped")
    return 0
