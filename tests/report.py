"""Render the README table "What we test and what it proved" from the last test run.

    python -m tests.report                  # print the table (Markdown)
    python -m tests.report --write README.md

`--write` replaces what lies between the two marker lines below in the given file, and
fails when they are missing. Every figure comes from `tests/.results/reliability.json`,
which the tests write (tests/results.py); a test that did not run shows as "not measured".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.results import RESULTS_FILE, Figures, load

BEGIN = "<!-- reliability-table:begin -->"
END = "<!-- reliability-table:end -->"

Row = tuple[str, str, str]


def n(value: Any) -> str:
    """A count with thousands separated, or "?" when the figure is missing."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _soak(f: Figures) -> Row:
    return (
        "**Load held** (soak, `python -m bot run` as a real process)",
        f"{n(f.get('updates'))} updates ({n(f.get('private_questions'))} private questions, "
        f"{n(f.get('inline_queries'))} inline queries) from {n(f.get('users'))} users in "
        f"{n(f.get('seconds'))} s, while the Bot API server answered "
        f"{n(f.get('injected_500'))} of {n(f.get('requests'))} requests with 500, "
        f"{n(f.get('injected_429'))} with 429 + retry_after, and stalled "
        f"{n(f.get('injected_slow'))} past the client's timeout",
        f"{n(f.get('replies'))} answered, {n(f.get('failed_after_retries'))} counted failed "
        f"after the library's retries, **{n(f.get('lost'))} lost, {n(f.get('duplicates'))} "
        f"answered twice**; memory {n(f.get('rss_start_mb'))} -> {n(f.get('rss_end_mb'))} MB "
        f"(**{n(f.get('rss_growth_mb'))} MB** growth, limit 20); exit code "
        f"{n(f.get('exit_code'))} on SIGTERM",
    )


def _reload(f: Figures) -> Row:
    return (
        "**Knowledge swaps under load**",
        f"{n(f.get('swaps'))} swaps ({n(f.get('valid_swaps'))} valid, "
        f"{n(f.get('invalid_swaps'))} broken: half-written, other encoding, empty, syntax "
        f"slip, a figure its quote does not cite) in {n(f.get('swap_seconds'))} s, while "
        f"{n(f.get('questions'))} questions were answered",
        f"**{n(f.get('mixed_answers'))} answers mixing two versions, "
        f"{n(f.get('answers_from_invalid_files'))} from a broken file**, "
        f"{n(f.get('errors'))} errors; {n(f.get('versions_seen_in_answers'))} versions seen "
        "in answers; the live version at the end is the last valid file",
    )


def _sigterm(f: Figures) -> Row:
    return (
        "**SIGTERM in a burst** (real process)",
        f"{n(f.get('burst'))} questions, {n(f.get('in_flight_at_signal'))} still unanswered "
        "when the signal came",
        f"{n(f.get('answered'))} of {n(f.get('fetched'))} fetched answered exactly once, "
        f"{n(f.get('left_for_next_start'))} left queued at Telegram for the next start; "
        f"{n(f.get('logged_questions'))} questions in the log; exit code "
        f"{n(f.get('exit_code'))}",
    )


def _database(f: Figures) -> Row:
    down = n(f.get("answered_while_down"))
    return (
        "**Database down mid-run** (PostgreSQL stopped, then started)",
        f"{down} questions while it was down",
        f"all {down} answered (in {n(f.get('seconds_to_answer_while_down'))} s), "
        f"{n(f.get('recorded_while_down'))} recorded meanwhile; recording resumed within "
        f"{n(f.get('probes_until_recording'))} question(s) of the restart, then "
        f"{n(f.get('recorded_after'))} of {n(f.get('recorded_after'))} recorded",
    )


def _normalization(f: Figures) -> Row:
    return (
        "Bad inputs: normalization",
        f"{n(f.get('strings'))} generated strings ({n(f.get('non_ascii'))} with non-ASCII "
        "text: ligatures, other scripts, combining marks, emoji)",
        "total and idempotent on every one",
    )


def _engine(f: Figures) -> Row:
    kinds = ", ".join(
        f"{n(v)} {k.removeprefix('kind_')}" for k, v in sorted(f.items()) if k.startswith("kind_")
    )
    return (
        "Bad inputs: questions",
        f"{n(f.get('questions'))} generated questions up to the 1,000-character limit",
        f"no exception, and a fact only when the engine is sure ({kinds})",
    )


def _render(f: Figures) -> Row:
    return (
        "Bad inputs: replies",
        f"{n(f.get('replies'))} replies with hostile or huge texts in every field "
        f"({n(f.get('messages'))} messages, {n(f.get('split_replies'))} split)",
        "all valid Telegram HTML under 4,096 characters; every supplied string shown as text",
    )


def _hostile(f: Figures) -> Row:
    return (
        "Bad inputs: markup typed by users",
        f"HTML and Markdown control characters in {n(f.get('messages'))} messages, a first "
        f"name and {n(f.get('inline_queries'))} inline query, through the real bot",
        f"{n(f.get('markup_interpreted'))} interpreted: shown as text, questions still answered",
    )


def _callbacks(f: Figures) -> Row:
    return (
        "Forged buttons",
        f"{n(f.get('forged_tried'))} forged callback data, {n(f.get('valid_round_trips'))} "
        "real ones",
        f"{n(f.get('forged_refused'))} refused, the rest exact copies of real buttons; every "
        "real one fits in 64 bytes and round-trips",
    )


def _mutations(f: Figures) -> Row:
    kinds = ", ".join(
        f"{n(v)} {k.removeprefix('mutation_')}"
        for k, v in sorted(f.items())
        if k.startswith("mutation_")
    )
    return (
        "Broken knowledge files",
        f"{n(f.get('files'))} mutated copies of the shipped file ({kinds})",
        f"{n(f.get('refused'))} refused with their problems listed, "
        f"{n(f.get('still_valid'))} still valid and served; nothing else was ever raised",
    )


def _secrets(f: Figures) -> Row:
    return (
        "Secrets",
        f"a webhook run full of errors: {n(f.get('log_records_scanned'))} log records of "
        f"every logger at DEBUG, {n(f.get('handler_errors_scanned'))} handler exceptions, "
        f"{n(f.get('bot_requests_scanned'))} requests to Telegram",
        f"{n(f.get('leaks'))} containing the token or the webhook secret",
    )


def _webhook(f: Figures) -> Row:
    return (
        "Webhook door",
        f"{n(f.get('requests_refused'))} requests without the right secret",
        f"all refused with 403, {n(f.get('processed'))} processed",
    )


def _oversized(f: Figures) -> Row:
    return (
        "Oversized webhook bodies",
        f"{n(f.get('bodies_refused'))} bodies (one announcing "
        f"{n(f.get('largest_announced_bytes'))} bytes, one of 2 MB with the right secret)",
        "refused before being read; the next update answered",
    )


def _mod_commands(f: Figures) -> Row:
    return (
        "Moderator commands",
        f"{n(f.get('attempts'))} tries by a non-moderator (private, group, forwarded, edited) "
        "and by moderators in the wrong place or form",
        f"{n(f.get('refused'))} refused with one neutral line, {n(f.get('changed'))} changes",
    )


def _mod_buttons(f: Figures) -> Row:
    return (
        "Moderator buttons",
        f"{n(f.get('presses'))} presses of Confirm / Cancel / add-variant (real and forged ids) "
        "by a non-moderator",
        f"{n(f.get('refused'))} refused, {n(f.get('changed'))} changes; the real Confirm "
        "still worked for its moderator",
    )


def _replays(f: Figures) -> Row:
    return (
        "Confirm forged or replayed",
        f"{n(f.get('presses'))} presses: another moderator's, a triple tap, late replays",
        f"applied {n(f.get('applied'))} time",
    )


def _uploads(f: Figures) -> Row:
    return (
        "Uploads by others",
        f"{n(f.get('uploads'))} documents from a non-moderator (private, group, forwarded, edited)",
        f"{n(f.get('downloaded'))} downloaded, {n(f.get('changed'))} changes",
    )


def _names(f: Figures) -> Row:
    return (
        "Uploaded file names",
        f"{n(f.get('hostile_names'))} names with `../`, absolute paths, backslashes, HTML, NUL",
        f"{n(f.get('used_as_path'))} used as a path; shown escaped",
    )


def _votes(f: Figures) -> Row:
    return (
        "Forged votes",
        f"{n(f.get('forged_votes'))} 👎 on other people's questions (replayed and guessed rows)",
        f"{n(f.get('counted'))} counted",
    )


SECTIONS: list[tuple[str, Callable[[Figures], Row]]] = [
    ("soak", _soak),
    ("reload_under_load", _reload),
    ("sigterm", _sigterm),
    ("database_outage", _database),
    ("normalization", _normalization),
    ("engine_fuzz", _engine),
    ("render", _render),
    ("hostile_text", _hostile),
    ("callback_data", _callbacks),
    ("knowledge_mutations", _mutations),
    ("secrets", _secrets),
    ("webhook_forged", _webhook),
    ("webhook_oversized", _oversized),
    ("moderator_commands_refused", _mod_commands),
    ("moderator_buttons_refused", _mod_buttons),
    ("confirm_replays", _replays),
    ("outsider_uploads", _uploads),
    ("upload_names", _names),
    ("vote_forgery", _votes),
]


def table(results: dict[str, Figures]) -> str:
    """The Markdown table, then one line saying when and where the figures come from."""
    lines = [
        "| what we test | how hard we pushed | what it proved |",
        "| --- | --- | --- |",
    ]
    for section, row in SECTIONS:
        figures = results.get(section)
        if figures is None:
            lines.append(f"| {section.replace('_', ' ')} | not measured | not measured |")
            continue
        what, how, proved = row(figures)
        lines.append(f"| {what} | {how} | {proved} |")
    times = sorted(str(f.get("measured_at", "")).replace("+00:00", "") for f in results.values())
    when = f"{times[0]} to {times[-1]}" if times else "never"
    lines.append("")
    lines.append(
        f"Figures from the last test run ({when} UTC), rendered by `python -m tests.report` "
        "from `tests/.results/reliability.json`."
    )
    return "\n".join(lines)


def replace_between_markers(text: str, block: str) -> str:
    """`text` with what lies between BEGIN and END replaced by `block`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN} and {END} are missing")
    return text[: start + len(BEGIN)] + "\n" + block + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.report", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS_FILE)
    parser.add_argument("--write", type=Path, metavar="FILE", help="update FILE in place")
    args = parser.parse_args(argv)
    results = load(args.results)
    if not results:
        print(f"no results in {args.results}: run the tests first (make test)", file=sys.stderr)
        return 1
    block = table(results)
    if args.write is None:
        print(block)
        return 0
    try:
        updated = replace_between_markers(args.write.read_text(encoding="utf-8"), block)
    except (OSError, ValueError) as exc:
        print(f"error: {args.write}: {exc}", file=sys.stderr)
        return 1
    args.write.write_text(updated, encoding="utf-8")
    print(f"{args.write}: table updated from {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
