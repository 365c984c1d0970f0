"""`python -m bot ...`: the engine on the command line, and the bot's entry point.

Telegram is imported only by `run`, so `ask` starts fast and works without a token.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError

from bot.answers import Engine
from bot.index_cache import load_engine
from bot.knowledge import KnowledgeError, load_knowledge
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.storage import MissGroup


def _engine(path: Path, err: TextIO, cache_dir: Path | None = None) -> Engine | None:
    """The engine for a file, its index kept in `cache_dir` between runs when given."""
    try:
        return Engine.from_path(path) if cache_dir is None else load_engine(path, cache_dir)
    except KnowledgeError as exc:
        print(f"Cannot use the knowledge file {path}:", file=err)
        for problem in exc.problems:
            print(f"  {problem}", file=err)
        return None


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(args.knowledge, sys.stderr, settings.data_dir)
    if engine is None:
        return 1
    questions = sys.stdin if args.question == "-" else [args.question]
    for line in questions:
        reply = engine.ask(line.rstrip("\r\n") if args.question == "-" else line)
        if args.json:
            print(json.dumps(reply.to_json(), ensure_ascii=False), flush=True)
        else:
            print(reply.text, flush=True)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(args.knowledge, sys.stderr, settings.data_dir)
    if engine is None:
        return 1
    print(
        f"DeepSeek bot, console ({engine.entry_count} facts, version {engine.version}). "
        "Ask in French or English; Ctrl-D or /quit to leave."
    )
    last_lang = None
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if line.strip() in ("/quit", "/exit"):
            return 0
        reply = engine.ask(line, lang_hint=last_lang)
        last_lang = reply.lang
        print(reply.text + "\n")


def cmd_validate(args: argparse.Namespace) -> int:
    path: Path = args.path or args.knowledge
    try:
        kb = load_knowledge(path)
    except KnowledgeError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}")
        print(f"{len(exc.problems)} problem(s) found.", file=sys.stderr)
        return 1
    variants = sum(len(e.questions.fr) + len(e.questions.en) for e in kb.entries)
    figures = sum(len(e.figures) for e in kb.entries)
    print(
        f"{path}: OK, {len(kb.entries)} entries, {variants} question variants, "
        f"{figures} figures, version {kb.version}"
    )
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from bot.moderation import lint

    path: Path = args.path or args.knowledge
    engine = _engine(path, sys.stdout)
    if engine is None:
        return 1
    report = lint(engine)
    print("\n".join(report.lines()))
    problems = report.declined or report.unread or report.ignored or report.shared
    return 1 if report.collisions or problems else 0


def cmd_misses(args: argparse.Namespace, settings: Settings) -> int:
    """What the bot could not answer, from the question log, on screen or as CSV."""
    import asyncio

    from bot.storage import QuestionLog, StorageUnavailable, export_misses_csv

    async def fetch() -> list[MissGroup]:
        try:
            log = await QuestionLog.from_settings(settings)
        except ValueError as exc:
            raise StorageUnavailable(f"the question log cannot be opened: {exc}") from None
        try:
            return await log.misses(args.days, args.limit)
        finally:
            await log.close()

    try:
        groups = asyncio.run(fetch())
    except StorageUnavailable as exc:
        print(f"Cannot read the question log: {exc}", file=sys.stderr)
        return 1
    if args.csv is not None:
        try:
            count = export_misses_csv(groups, args.csv)
        except OSError as exc:
            print(f"Cannot write {args.csv}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"{count} group(s) of missed questions, last {args.days} day(s): {args.csv}")
        return 0
    if not groups:
        print(f"No missed questions in the last {args.days} day(s).")
    for group in groups:
        closest = f" (closest: {group.entry})" if group.entry else ""
        votes = f", {group.downvotes} 👎" if group.downvotes else ""
        print(f"{group.count:>4} × [{group.lang}] {group.question}{closest}{votes}")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.telegram_app import run  # Telegram only when the bot really runs

    return run(settings.model_copy(update={"knowledge_path": args.knowledge}))


def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        print(
            "No TELEGRAM_BOT_TOKEN set (see .env.example): opening the local console chat instead."
        )
        return cmd_chat(args, settings)
    return cmd_run(args, settings)


def _days(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to 3650, not {value!r}")
    return int(value)


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A bilingual question-answering bot about an article on DeepSeek.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--knowledge",
        type=Path,
        default=settings.knowledge_path,
        metavar="PATH",
        help=f"knowledge file (default: {settings.knowledge_path})",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = sub.add_parser(
        "ask", parents=[common], help="answer one question ('-': one per stdin line)"
    )
    ask.add_argument("question", help="the question, or - to read questions from standard input")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    sub.add_parser("chat", parents=[common], help="interactive console chat, no Telegram needed")
    validate = sub.add_parser("validate", parents=[common], help="check a knowledge file")
    validate.add_argument("path", nargs="?", type=Path, help="file to check (default: --knowledge)")
    lint = sub.add_parser(
        "lint", parents=[common], help="find variants another entry would answer (leave-one-out)"
    )
    lint.add_argument("path", nargs="?", type=Path, help="file to check (default: --knowledge)")
    misses = sub.add_parser(
        "misses", help="the questions the bot could not answer, from the question log"
    )
    misses.add_argument("--days", type=_days, default=7, help="how far back (default: 7)")
    misses.add_argument("--limit", type=_days, default=100, help="groups at most (default: 100)")
    misses.add_argument("--csv", type=Path, metavar="FILE", help="write them as CSV to FILE")
    sub.add_parser("run", parents=[common], help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    sub.add_parser(
        "start", parents=[common], help="the Telegram bot if a token is set, else the console chat"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        # One line per bad setting, by name; values are not echoed (one may be a secret).
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]).upper()
            print(f"Bad setting {name}: {error['msg']}", file=sys.stderr)
        return 2
    args = build_parser(settings).parse_args(argv)
    if args.command == "ask":
        return cmd_ask(args, settings)
    if args.command == "chat":
        return cmd_chat(args, settings)
    if args.command == "validate":
        return cmd_validate(args)
    if args.command == "lint":
        return cmd_lint(args)
    if args.command == "misses":
        return cmd_misses(args, settings)
    if args.command == "run":
        return cmd_run(args, settings)
    return cmd_start(args, settings)
