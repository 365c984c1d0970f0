"""The renderer and the small per-user state, on their own (no server needed)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.answers import Engine, Reply
from bot.telegram_render import (
    MAX_CALLBACK_DATA,
    MAX_MESSAGE,
    AnswerAction,
    VoteAction,
    decode_action,
    encode_action,
    render,
    reply_html,
    shorten,
    split_html,
)
from bot.telegram_state import LanguagePrefs, QuestionLimiter
from tests.telegram.fake_bot_api import html_problem, utf16_len

# -- callback data ---------------------------------------------------------------------------


def test_callback_data_round_trips_and_fits() -> None:
    longest = "e" * 40  # the knowledge schema caps entry ids at 40 characters
    for action in (
        AnswerAction(longest, "fr", "new"),
        AnswerAction(longest, "en", "replace"),
        VoteAction(longest, "fr", "+"),
        VoteAction(longest, "en", "-"),
    ):
        data = encode_action(action)
        assert len(data.encode()) <= MAX_CALLBACK_DATA
        assert decode_action(data) == action


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "a",
        "a:fr",
        "a:xx:entry",
        "a:fr:Entry",
        "a:fr:../x",
        "fb:*:fr:x",
        "q:fr:x",
        "a:fr:x:y",
    ],
)
def test_unknown_callback_data_is_rejected(data: str | None) -> None:
    assert decode_action(data) is None


def test_an_entry_id_too_long_for_a_button_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_action(VoteAction("x" * 60, "fr", "+"))


# -- HTML ------------------------------------------------------------------------------------


def test_every_reply_kind_renders_to_valid_html(engine: Engine) -> None:
    replies: list[Reply] = [
        engine.ask(q)
        for q in ("Combien a coûté GPT-4 ?", "le coût", "recommande-moi un film", "merci", "")
    ]
    replies += [engine.topics("en"), engine.figures_overview("fr"), engine.about("en")]
    replies += [engine.reply_for(s.entry, "en") for s in engine.topics("en").suggestions]
    for reply in replies:
        message = render(reply)
        for text in message.texts:
            assert html_problem(text) is None, (reply.kind, text)
        for row in message.keyboard.inline_keyboard if message.keyboard else ():
            for button in row:
                assert isinstance(button.callback_data, str)
                assert decode_action(button.callback_data) is not None


def test_file_supplied_text_is_escaped(engine: Engine) -> None:
    base = engine.reply_for("r1_pricing", "en")
    hostile = Reply(
        question="q",
        kind="answer",
        lang="en",
        body="<script>alert('x')</script> & <b>bold</b>",
        entry="r1_pricing",
        figures=base.figures,
        source=base.source,
    )
    text = reply_html(hostile)
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text
    assert html_problem(text) is None


def test_short_text_is_not_split() -> None:
    assert split_html("<b>a</b>\nb") == ["<b>a</b>\nb"]


def test_split_packs_lines_and_never_cuts_one() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(100)]
    parts = split_html("\n".join(lines), limit=1000)
    assert len(parts) > 1
    assert all(utf16_len(p) <= 1000 for p in parts)
    assert [line for p in parts for line in p.split("\n")] == lines


def test_a_giant_line_is_cut_with_its_tags_closed_and_reopened() -> None:
    text = "<blockquote>" + "mot &amp; " * 800 + "</blockquote>"
    parts = split_html(text, limit=500)
    assert len(parts) > 1
    for part in parts:
        assert utf16_len(part) <= 500
        assert html_problem(part) is None
        assert part.startswith("<blockquote>") and part.endswith("</blockquote>")


def test_a_giant_word_is_cut_anywhere() -> None:
    parts = split_html("<b>" + "x" * 5000 + "</b>", limit=MAX_MESSAGE)
    assert len(parts) == 2 and all(html_problem(p) is None for p in parts)
    assert sum(p.count("x") for p in parts) == 5000


_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
)


@st.composite
def _html_lines(draw: st.DrawFn) -> str:
    """Lines like the renderer makes: escaped text, some of it in tags."""
    lines = []
    for _ in range(draw(st.integers(1, 30))):
        words = [html.escape(w, quote=False) for w in draw(st.lists(_words, max_size=25))]
        tag = draw(st.sampled_from(["", "b", "i", "blockquote"]))
        body = " ".join(words) or "."
        lines.append(f"<{tag}>{body}</{tag}>" if tag else body)
    return "\n".join(lines)


@settings(max_examples=40, deadline=None)
@given(_html_lines(), st.integers(min_value=200, max_value=MAX_MESSAGE))
def test_split_pieces_are_always_valid_and_short(text: str, limit: int) -> None:
    for part in split_html(text, limit):
        assert utf16_len(part) <= limit
        assert html_problem(part) is None


def test_a_quote_over_many_lines_is_closed_and_reopened_at_each_cut() -> None:
    quote = "\n".join(f"line {n} of a long quoted passage" for n in range(400))
    parts = split_html(f"Source:\n<blockquote>{quote}</blockquote>\nend")
    assert len(parts) > 1
    for part in parts:
        assert html_problem(part) is None and utf16_len(part) <= 4096
    assert parts[1].startswith("<blockquote>line ") and parts[0].endswith("</blockquote>")
    assert "line 399 of a long quoted passage</blockquote>\nend" in parts[-1]


def test_shorten_cuts_at_a_word_with_an_ellipsis() -> None:
    assert shorten("a b c", 10) == "a b c"
    assert shorten("Combien a coûté l'entraînement de GPT-4 ?", 20) == "Combien a coûté…"
    assert len(shorten("x" * 100, 10)) == 10


# -- state -----------------------------------------------------------------------------------


def test_language_prefs_survive_a_reload(tmp_path: Path) -> None:
    path = tmp_path / "data" / "prefs.json"
    prefs = LanguagePrefs(path)
    assert prefs.get(1) is None
    prefs.set(1, "en")
    prefs.set(2, "fr")
    assert LanguagePrefs(path).get(1) == "en" and LanguagePrefs(path).get(2) == "fr"
    assert json.loads(path.read_text())["version"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["prefs.json"]  # no temp files left


def test_unreadable_prefs_mean_no_prefs(tmp_path: Path) -> None:
    path = tmp_path / "prefs.json"
    path.write_text("{not json")
    assert len(LanguagePrefs(path)) == 0
    path.write_text(json.dumps({"lang": {"1": "de", "x": "fr", "3": "en"}}))
    prefs = LanguagePrefs(path)
    assert prefs.get(1) is None and prefs.get(3) == "en" and len(prefs) == 1


def test_limiter_allows_then_notifies_once_then_drops_then_recovers() -> None:
    now = [0.0]
    limiter = QuestionLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(6)] == ["ok"] * 3 + ["notify", "drop", "drop"]
    assert limiter.check(2) == "ok"  # per user
    now[0] = 61.0
    assert [limiter.check(1) for _ in range(5)] == ["ok"] * 3 + ["notify", "drop"]


def test_limiter_forgets_idle_users() -> None:
    now = [0.0]
    limiter = QuestionLimiter(1, 10.0, clock=lambda: now[0])
    for user_id in range(2000):
        limiter.check(user_id)
    now[0] = 100.0
    for _ in range(1024):
        limiter.check(99999)
    assert len(limiter._hits) == 1
