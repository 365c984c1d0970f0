"""Property tests: whatever a user types or a moderator saves, nothing breaks.

Each property runs a bounded number of generated examples (`PROPERTY_EXAMPLES` multiplies
them, e.g. `PROPERTY_EXAMPLES=10` for a long local run) and records how many it tried in
`tests/.results/reliability.json` for the README table. No timing is asserted here: speed
targets live in bench/.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot import matching
from bot.answers import Engine, FigureView, Reply, ReplyKind, Source, Suggestion
from bot.knowledge import LANGS, KnowledgeError, Lang, parse_knowledge
from bot.telegram_render import (
    MAX_CALLBACK_DATA,
    MAX_MESSAGE,
    Action,
    AnswerAction,
    VoteAction,
    decode_action,
    encode_action,
    inline_results,
    render,
    reply_html,
    topic_titles,
    welcome,
)
from tests.conftest import KNOWLEDGE
from tests.results import record, scale
from tests.telegram.fake_bot_api import html_problem, utf16_len

FACTOR = scale(1, "PROPERTY_EXAMPLES")


def examples(n: int) -> settings:
    """Hypothesis settings for `n` examples (times PROPERTY_EXAMPLES), no deadline."""
    return settings(
        max_examples=n * FACTOR,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- text strategies ---------------------------------------------------------------------------

# Words that exercise every rule of the normalizer: numbers and scales, model names, elisions,
# stop words, stemming, number words, ligatures and other Unicode that NFKD rewrites.
TRICKY = [
    "gpt", "GPT", "r", "R", "o", "v", "llama", "4", "1", "2,2", "2.2", "6m", "6M", "m", "b",
    "k", "md", "mn", "mds", "milliards", "million", "%", "pour", "cent", "per", "cents", "$",
    "€", "six", "vingt", "quinze", "seventy", "five", "dix", "l'", "qu'", "c'", "l’", "coûté",
    "coûts", "ss", "news", "é", "œ", "ﬁ", "²", "½", "Ⅻ", "٣", "𝟘", "merciiii", "78musd",
    "2023t1", "1e5", "0.0", "00", "007", "4,0", "04", ",", ".", "'", "’", "-", "ǅ", "İ", "ß",
    "ﬀ", "K", "Å", "ŉ", "deepseek", "DeepSeek-R1", "prix", "cost", "trump", "axios", "o1",
    "bonjour", "merci", "?", "!", "<b>", "</b>", "&amp;", "*", "_", "`", "[", "](", ")",
    "\u200b", "\u202f", "\n", "\t", "🤖", "👍🏽", "\u0301", "ﷺ", "ǰ", "\U0001d400",
]  # fmt: skip
tricky_text = st.lists(st.sampled_from(TRICKY), max_size=12).flatmap(
    lambda words: st.sampled_from([" ", "", "-", "'"]).map(lambda sep: sep.join(words))
)
any_text = st.one_of(st.text(), tricky_text)
PHRASE_WORDS = [
    "who", "is", "behind", "chat", "gpt", "plus", "per", "month", "boss", "meta", "owner",
    "yuyuan", "tantian", "cites", "how", "funded", "raised", "money", "deepseek", "in",
    "charge", "based", "on", "api", "keys", "far", "east", "so", "the", "eu", "chiffre", "2,2",
]  # fmt: skip
phrase_text = st.lists(st.sampled_from(PHRASE_WORDS), max_size=10).map(" ".join)


# -- normalization -------------------------------------------------------------------------------


def test_normalization_is_total_and_idempotent(engine: Engine) -> None:
    seen = Counter[str]()
    shipped = engine.index.phrases  # the knowledge file's phrases read some words together

    @examples(600)
    @given(st.one_of(any_text, phrase_text))
    def check(text: str) -> None:
        toks = matching.tokens(text)
        assert all(isinstance(t, str) and t and " " not in t for t in toks)
        assert matching.tokens(" ".join(toks)) == toks
        normal = matching.normalize(text)
        assert normal == " ".join(toks)
        assert matching.normalize(normal) == normal
        read = matching.tokens(text, shipped)
        assert all(isinstance(t, str) and t and " " not in t for t in read)
        assert matching.tokens(" ".join(read), shipped) == read
        seen["strings"] += 1
        seen["non_ascii"] += any(ord(c) > 127 for c in text)

    check()
    record("normalization", strings=seen["strings"], non_ascii=seen["non_ascii"])


def test_gpt_4_written_any_way_is_the_same_model(engine: Engine) -> None:
    # Found by the idempotence property: "gpt 4.0" used to be two words, "gpt4" one.
    assert matching.tokens("GPT 4.0") == matching.tokens("gpt-4") == ["gpt4"]
    assert matching.tokens("gpt 04") == ["gpt4"]
    reply = engine.ask("Combien a coûté GPT 4.0 ?")
    assert reply.answered and reply.entry == "training_cost"


# -- the engine --------------------------------------------------------------------------------

KIND_LIST: tuple[ReplyKind, ...] = ("answer", "suggest", "fallback", "chitchat", "prompt")
KINDS = set(KIND_LIST)
question_text = st.one_of(
    st.text(max_size=matching.MAX_QUESTION_CHARS),
    tricky_text.map(lambda t: t[: matching.MAX_QUESTION_CHARS]),
    st.text(min_size=1, max_size=30).map(
        lambda word: (word + " ") * (matching.MAX_QUESTION_CHARS // (len(word) + 1))
    ),
)


def test_the_engine_answers_any_question_up_to_the_limit_without_raising(engine: Engine) -> None:
    ids = {e.id for e in engine.kb.entries}
    kinds = Counter[str]()

    @examples(250)
    @given(question_text, st.sampled_from([None, "fr", "en"]))
    def check(question: str, hint: Any) -> None:
        reply = engine.ask(question, lang_hint=hint)
        assert reply.kind in KINDS and reply.lang in ("fr", "en")
        assert reply.text.strip()
        if reply.answered:
            assert reply.entry in ids and reply.source is not None
        else:
            assert reply.entry is None and not reply.figures  # never a fact it is unsure of
        for found in engine.search(question, lang_hint=hint):
            assert found.answered and found.entry in ids
        kinds[reply.kind] += 1

    check()
    by_kind = {f"kind_{k}": n for k, n in kinds.items()}
    record("engine_fuzz", questions=sum(kinds.values()), **by_kind)


@examples(20)
@given(st.text(min_size=matching.MAX_QUESTION_CHARS + 1, max_size=3 * matching.MAX_QUESTION_CHARS))
def test_a_question_over_the_limit_gets_a_polite_prompt(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.kind == "prompt" and not reply.answered


# -- rendering ---------------------------------------------------------------------------------

# Text as a user or a moderator could supply it: any Unicode Telegram can carry (no lone
# surrogates), markup look-alikes over-represented.
MARKUP = ["<", ">", "&", "&amp;", "&lt;", "<b>", "</b>", "</blockquote>", "<a href='x'>", '"']
supplied = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80),
    st.lists(st.sampled_from([*MARKUP, "x", " ", "\n", "é", "👍"]), max_size=20).map("".join),
)
nonblank = supplied.filter(lambda s: s.strip() != "")
long_text = st.builds(lambda s, n: (s + " ") * n, nonblank, st.integers(1, 200))
entry_id = st.from_regex(r"[a-z0-9][a-z0-9_]{0,39}", fullmatch=True)
langs: st.SearchStrategy[Lang] = st.sampled_from(LANGS)
log_rows = st.none() | st.integers(0, 10**18 - 1)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    """Any Reply the engine could build, with hostile or huge texts in every field."""
    kind = draw(st.sampled_from(KIND_LIST))
    entry = draw(entry_id) if kind == "answer" else None
    figures = tuple(
        FigureView(1.0, "USD", "one", None, draw(supplied), draw(nonblank), None, "x")
        for _ in range(draw(st.integers(0, 4)))
    )
    suggestion = st.builds(Suggestion, entry_id, nonblank, nonblank)
    return Reply(
        question=draw(supplied),
        kind=kind,
        lang=draw(langs),
        body=draw(st.one_of(nonblank, long_text)),
        entry=entry,
        topic=draw(supplied),
        figures=figures,
        computed=tuple(draw(st.lists(nonblank, max_size=2))),
        source=draw(st.none() | st.builds(Source, nonblank, st.one_of(nonblank, long_text))),
        suggestions=tuple(draw(st.lists(suggestion, max_size=4))),
        related=tuple(draw(st.lists(suggestion, max_size=3))),
    )


def visible(parts: list[str] | tuple[str, ...]) -> str:
    """What a Telegram client shows for these HTML messages, whitespace removed."""
    shown = "".join(html.unescape(re.sub(r"<[^<>]*>", "", part)) for part in parts)
    return re.sub(r"\s", "", shown)


def supplied_strings(reply: Reply) -> list[str]:
    strings = [reply.body, *reply.computed]
    strings += [s for f in reply.figures for s in (f.label, f.display)]
    if reply.source is not None:
        strings += [reply.source.who, reply.source.quote]
    return strings


def test_every_rendered_reply_is_valid_telegram_html_within_the_limits() -> None:
    counts = Counter[str]()

    @examples(60)
    @given(replies(), log_rows)
    def check(reply: Reply, row: int | None) -> None:
        rendered = render(reply, row=row)
        assert rendered.texts
        for text in rendered.texts:
            assert html_problem(text) is None, text[:300]
            assert utf16_len(text) <= MAX_MESSAGE
            assert set(re.findall(r"</?([a-z-]+)", text)) <= {"b", "i", "blockquote"}
        # Every supplied string is shown as itself: escaped, never interpreted as markup.
        shown = visible(rendered.texts)
        for string in supplied_strings(reply):
            assert re.sub(r"\s", "", string) in shown
        assert visible([reply_html(reply)]) == shown  # splitting loses nothing
        for line in rendered.keyboard.inline_keyboard if rendered.keyboard else ():
            for button in line:
                assert isinstance(button.callback_data, str)
                assert len(button.callback_data.encode()) <= MAX_CALLBACK_DATA
                assert decode_action(button.callback_data) is not None
                assert button.text.strip()
        counts["replies"] += 1
        counts["messages"] += len(rendered.texts)
        counts["split"] += len(rendered.texts) > 1

    check()
    record(
        "render",
        replies=counts["replies"],
        messages=counts["messages"],
        split_replies=counts["split"],
    )


@examples(20)
@given(st.lists(replies(), max_size=6), st.dictionaries(entry_id, supplied, max_size=6))
def test_inline_results_are_valid_whatever_the_texts(
    replies_: list[Reply], topics: dict[str, str]
) -> None:
    results = inline_results(replies_, topics)
    assert len({r.id for r in results}) == len(results)
    for result in results:
        assert 1 <= len(result.id.encode()) <= 64
        content = result.input_message_content
        text = getattr(content, "message_text", "")
        assert html_problem(text) is None and utf16_len(text) <= MAX_MESSAGE


@examples(60)
@given(langs, st.one_of(st.none(), supplied))
def test_the_welcome_shows_any_first_name_as_text(lang: Any, name: str | None) -> None:
    text = welcome(lang, name)
    assert html_problem(text) is None
    if name:
        assert re.sub(r"\s", "", name) in visible([text])


def test_topic_titles_map_every_entry(engine: Engine) -> None:
    titles = topic_titles(engine.topics("en"))
    assert set(titles) == {e.id for e in engine.kb.entries}


# -- callback data -------------------------------------------------------------------------------

actions = st.one_of(
    st.builds(AnswerAction, entry_id, langs, st.sampled_from(["new", "replace"])),
    st.builds(VoteAction, entry_id, langs, st.sampled_from(["+", "-"]), log_rows),
)
ENTRY_ID = re.compile(r"[a-z0-9][a-z0-9_]*")
FORGERY_CHARS = ["\n", "\r\n", " ", ":", "\x00", "é", "A", "_", "-", "+", "fr", "\u200b"]


def encode_action_or_empty(action: Action) -> str:
    try:
        return encode_action(action)
    except ValueError:
        return ""


@st.composite
def tampered(draw: st.DrawFn) -> str:
    """Callback data as a client could forge it: a real button's data, edited a little."""
    action = draw(actions)
    assume(len(encode_action_or_empty(action)) > 0)
    data = encode_action(action)
    edit = draw(st.sampled_from(["append", "prepend", "insert", "replace", "truncate"]))
    at = draw(st.integers(0, len(data)))
    junk = draw(st.one_of(st.sampled_from(FORGERY_CHARS), st.text(min_size=1, max_size=3)))
    if edit == "append":
        return data + junk
    if edit == "prepend":
        return junk + data
    if edit == "insert":
        return data[:at] + junk + data[at:]
    if edit == "replace":
        return data[:at] + junk + data[at + 1 :]
    return data[:at]


def test_callback_data_fits_round_trips_and_rejects_any_forgery() -> None:
    counts = Counter[str]()

    @examples(200)
    @given(actions)
    def round_trip(action: Action) -> None:
        try:
            data = encode_action(action)
        except ValueError:  # a long entry id with a huge log row: refused, never cut
            assert isinstance(action, VoteAction) and action.row is not None
            counts["too_long_refused"] += 1
            return
        assert 1 <= len(data.encode()) <= MAX_CALLBACK_DATA
        assert decode_action(data) == action
        counts["valid"] += 1

    @examples(300)
    @given(st.one_of(tampered(), st.text(max_size=80)))
    def forged(data: str) -> None:
        action = decode_action(data)
        counts["forged"] += 1
        if action is None:
            counts["refused"] += 1
            return
        # Accepted only if it is exactly a button we could have made ourselves.
        assert ENTRY_ID.fullmatch(action.entry), action
        assert encode_action(action) == data

    round_trip()
    forged()
    record(
        "callback_data",
        valid_round_trips=counts["valid"],
        forged_tried=counts["forged"],
        forged_refused=counts["refused"],
    )


def test_a_button_for_an_entry_id_with_a_newline_is_refused() -> None:
    # Found by the forgery property: `$` also matches before a final newline.
    assert decode_action("a:fr:r1_pricing\n") is None
    assert decode_action("fb:+:en:r1_pricing\n") is None


# -- the knowledge loader ------------------------------------------------------------------------

SHIPPED = KNOWLEDGE.read_bytes()
SHIPPED_LINES = SHIPPED.splitlines(keepends=True)
SWAPS = [
    b"[]", b"{}", b"[a, b]", b"{x: 1}", b"12", b"-3.5", b"true", b"null", b'""', b"~", b".inf",
    b".nan", b"0x1F", b"2025-01-27", b"!!binary aGVsbG8=", b"&a x", b"*a", b"|", b">-",
    b"!!python/object/apply:os.system [ls]", b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", b"'", b"@x",
    b"1e400", b"!!set {a, b}", b"!!omap [a: 1]", b"? x", b"- - - x",
]  # fmt: skip
MUTATIONS = [
    "flip",
    "flip",
    "delete",
    "duplicate",
    "swap",
    "swap",
    "swap",
    "indent",
    "truncate",
    "text",
]
_VALUE = re.compile(rb"^(\s*(?:- )?[A-Za-z_]*:? ?)(.*?)(\r?\n?)$", re.DOTALL)


@st.composite
def mutated_knowledge(draw: st.DrawFn) -> tuple[list[str], bytes]:
    """The shipped file with 1 to 3 random mutations: what a slip of the keyboard makes."""
    lines = list(SHIPPED_LINES)
    done: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(MUTATIONS))
        i = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if not lines:
            break
        if kind == "flip":
            line = bytearray(lines[i])
            at = draw(st.integers(0, len(line) - 1))
            line[at] ^= 1 << draw(st.integers(0, 7))
            lines[i] = bytes(line)
        elif kind == "delete":
            del lines[i : i + draw(st.integers(1, 4))]
        elif kind == "duplicate":
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
        elif kind == "swap":
            match = _VALUE.match(lines[i])
            assert match is not None
            lines[i] = match.group(1) + draw(st.sampled_from(SWAPS)) + match.group(3)
        elif kind == "indent":
            lines[i] = b"  " + lines[i] if draw(st.booleans()) else lines[i].lstrip(b" ")
        elif kind == "truncate":
            lines = lines[:i]
        else:
            lines[i] = draw(st.text(max_size=40)).encode("utf-8", "surrogatepass") + b"\n"
        done.append(kind)
    return done, b"".join(lines)


def test_a_mutated_knowledge_file_raises_only_knowledge_errors() -> None:
    counts = Counter[str]()

    @examples(24)
    @given(mutated_knowledge())
    def check(case: tuple[list[str], bytes]) -> None:
        kinds, data = case
        assume(data != SHIPPED)
        counts["files"] += 1
        counts.update(f"mutation_{k}" for k in kinds)
        try:
            kb = parse_knowledge(data)
        except KnowledgeError as exc:
            assert exc.problems and all(str(p).strip() for p in exc.problems)
            counts["refused"] += 1
            return
        # Still valid (a harmless edit): it must then index and answer like any file.
        counts["still_valid"] += 1
        reply = Engine.from_knowledge(kb).ask("Combien coûte DeepSeek-R1 ?")
        assert reply.kind in KINDS

    check()
    record("knowledge_mutations", **dict(counts))
