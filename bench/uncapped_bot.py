"""`python -m bot run` with the rate limiter's overall cap lifted, to measure our capacity.

The shipped bot keeps python-telegram-bot's `AIORateLimiter` at its default of 30 messages a
second overall, Telegram's own cap, so as shipped it can never send faster than that whatever
the engine costs. Issue 5 asks what the bot itself can handle, so this entry point runs the
very same `bot.cli.main(["run", ...])` with the limiter still in the path (its bookkeeping is
still paid) but with `overall_max_rate=0`, which the library documents as "no overall limit".
Used by `bench.bot_bench` only, against the fake Bot API on loopback.
"""

from __future__ import annotations

import sys

from telegram.ext import AIORateLimiter

import bot.telegram_app
from bot.cli import main


class UncappedRateLimiter(AIORateLimiter):
    """The shipped limiter, per-group limits and retries kept, without the 30/s overall cap."""

    def __init__(self, max_retries: int = 0) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)


if __name__ == "__main__":
    # The one name `build_application` builds its limiter from; nothing else is changed.
    vars(bot.telegram_app)["AIORateLimiter"] = UncappedRateLimiter
    raise SystemExit(main(sys.argv[1:]))
