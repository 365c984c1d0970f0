"""The baseline bot: python-telegram-bot with our builder settings, answering "ok" at once.

Run as `python -m bench.echo_bot` by `bench.bot_bench`, against the fake Bot API only: what
the library, the HTTP client and the fake server cost without our engine and handlers, so the
bot's figures can be given as a ratio to it. It reads the same variables as the bot, and
BENCH_UNCAPPED=1 lifts the limiter's 30/s overall cap as `bench.uncapped_bot` does.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters

from bot.telegram_app import (
    ALLOWED_UPDATES,
    CONCURRENT_UPDATES,
    CONNECTION_POOL,
    RATE_LIMIT_RETRIES,
)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply at once, with no engine behind it."""
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, "ok")


def main() -> int:
    base_url = os.environ["TELEGRAM_API_BASE_URL"]
    if urlsplit(base_url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the echo bot only talks to a Bot API on loopback")
    app: Application[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base_url)
        .rate_limiter(
            AIORateLimiter(overall_max_rate=0, max_retries=RATE_LIMIT_RETRIES)
            if os.environ.get("BENCH_UNCAPPED") == "1"
            else AIORateLimiter(max_retries=RATE_LIMIT_RETRIES)
        )
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONNECTION_POOL)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
