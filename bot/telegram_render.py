"""Turn engine `Reply` objects into Telegram messages: HTML text, buttons, inline results.

Everything that comes from a user or the knowledge file goes through `html.escape` here, and
only here, so the handlers cannot forget it. Telegram's limits (4096 characters a message,
64 bytes of callback data) are enforced here too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from bot.answers import Reply, caption
from bot.knowledge import Lang

MAX_MESSAGE = 4096
"""Telegram's limit for one message's text (we measure the HTML source, which is longer)."""
MAX_CALLBACK_DATA = 64
"""Telegram's limit for a button's callback data, in bytes."""
MAX_BUTTON_LABEL = 60
"""Longer labels are cut by Telegram clients anyway; we cut them ourselves, with an ellipsis."""
MAX_INLINE_RESULTS = 5

# -- callback data ---------------------------------------------------------------------------
#
# A tiny, versioned format: a short prefix names the action and its layout, so a later format
# gets new prefixes and buttons left in old chats are recognised as expired, never misread.
#   a:<lang>:<entry>        answer an entry in a new message (related entries, /topics)
#   e:<lang>:<entry>        answer an entry in place of this message ("did you mean", fallback)
#   fb:<+|->:<lang>:<entry>[:<row>] feedback on the answer to <entry> (row: its question log id)
#   m:...                   moderator buttons, handled by `telegram_moderation` (never here)

Pick = Literal["new", "replace"]
Vote = Literal["+", "-"]
_LANGS: frozenset[str] = frozenset({"fr", "en"})
_ENTRY = re.compile(r"^[a-z0-9][a-z0-9_]*\Z")  # \Z: "$" would accept a final newline


@dataclass(frozen=True)
class AnswerAction:
    """A button that asks for an entry's answer."""

    entry: str
    lang: Lang
    pick: Pick


@dataclass(frozen=True)
class VoteAction:
    """A 👍/👎 button under an answer."""

    entry: str
    lang: Lang
    vote: Vote
    row: int | None = None
    """The question log row the vote goes to; None when the question was not recorded."""


Action = AnswerAction | VoteAction


def encode_action(action: Action) -> str:
    """Callback data for `action`; raises ValueError if it would not fit in 64 bytes."""
    if isinstance(action, VoteAction):
        data = f"fb:{action.vote}:{action.lang}:{action.entry}"
        if action.row is not None:
            data += f":{action.row}"
    else:
        data = f"{'e' if action.pick == 'replace' else 'a'}:{action.lang}:{action.entry}"
    if len(data.encode()) > MAX_CALLBACK_DATA:
        raise ValueError(f"callback data over {MAX_CALLBACK_DATA} bytes for entry {action.entry!r}")
    return data


def decode_action(data: str | None) -> Action | None:
    """The action behind callback data, or None for anything unknown, old or forged."""
    if not data or len(data.encode()) > MAX_CALLBACK_DATA:
        return None
    parts = data.split(":")
    if parts[0] in ("a", "e") and len(parts) == 3:
        _, lang, entry = parts
        if lang in _LANGS and _ENTRY.match(entry):
            pick: Pick = "replace" if parts[0] == "e" else "new"
            return AnswerAction(entry, _lang(lang), pick)
    if parts[0] == "fb" and len(parts) in (4, 5):
        _, vote, lang, entry = parts[:4]
        row = parts[4] if len(parts) == 5 else None
        canonical = row is None or (row.isascii() and row.isdigit() and row == str(int(row)))
        if not canonical or (row is not None and len(row) > 18):
            return None  # one spelling per row: "07" is not a button we made
        if vote in ("+", "-") and lang in _LANGS and _ENTRY.match(entry):
            return VoteAction(
                entry, _lang(lang), "+" if vote == "+" else "-", int(row) if row else None
            )
    return None


def _esc(text: str) -> str:
    """Escape text for Telegram HTML: only <, > and & matter outside attributes."""
    return html.escape(text, quote=False)


def _lang(value: str) -> Lang:
    return "en" if value == "en" else "fr"


# -- fixed texts -----------------------------------------------------------------------------

_UI: dict[Lang, dict[str, str]] = {
    "fr": {
        "welcome": (
            "Bonjour{name} ! Je réponds aux questions sur un article consacré à l'essor de "
            "DeepSeek, en citant ses chiffres et ses sources.\n\n"
            "Posez votre question en français ou en anglais, ou tapez /topics pour voir les "
            "sujets que je connais. /help explique le reste."
        ),
        "help": (
            "<b>Comment me poser une question</b>\n"
            "Écrivez simplement votre question, en français ou en anglais. Par exemple :\n"
            "• Combien a coûté l'entraînement de GPT-4 ?\n"
            "• Quel est le prix de DeepSeek-R1 ?\n"
            "• Qu'a dit Donald Trump de DeepSeek ?\n\n"
            "<b>Dans un groupe</b> : mentionnez-moi ({mention}), répondez à l'un de mes "
            "messages, ou écrivez /ask suivi de la question.\n"
            "<b>Partout</b> : tapez {mention} suivi de votre question dans n'importe quelle "
            "discussion.\n\n"
            "/topics – les sujets que je connais\n"
            "/figures – les chiffres clés de l'article\n"
            "/source – l'article et les sources qu'il cite\n"
            "/lang fr ou /lang en – la langue de mes réponses\n\n"
            "Sous chaque réponse, 👍 ou 👎 m'aident à m'améliorer."
        ),
        "lang_set": (
            "C'est noté : je vous répondrai en français (sauf si vous m'écrivez en anglais)."
        ),
        "lang_usage": "Utilisation : /lang fr ou /lang en. Langue actuelle : français.",
        "thanks": "Merci pour votre avis !",
        "expired": "Ce bouton n'est plus valable. Posez à nouveau votre question.",
        "slow_down": (
            "Vous posez beaucoup de questions ! Je réponds à {limit} questions par minute "
            "au plus ; réessayez dans un instant."
        ),
        "error": "Désolé, quelque chose s'est mal passé de mon côté. Réessayez dans un instant.",
        "unknown_command": (
            "Je ne connais pas cette commande. Tapez /help pour voir ce que je sais faire."
        ),
        "inline_more": "Poser une question en privé",
        "not_available": "Cette commande n'est pas disponible.",
    },
    "en": {
        "welcome": (
            "Hello{name}! I answer questions about an article on DeepSeek's rise, citing its "
            "figures and sources.\n\n"
            "Ask your question in English or French, or type /topics to see what I know "
            "about. /help explains the rest."
        ),
        "help": (
            "<b>How to ask me</b>\n"
            "Just type your question, in English or French. For example:\n"
            "• How much did it cost to train GPT-4?\n"
            "• What does DeepSeek-R1 cost?\n"
            "• What did Donald Trump say about DeepSeek?\n\n"
            "<b>In a group</b>: mention me ({mention}), reply to one of my messages, or "
            "write /ask followed by the question.\n"
            "<b>Anywhere</b>: type {mention} and your question in any chat.\n\n"
            "/topics – the topics I know about\n"
            "/figures – the article's key figures\n"
            "/source – the article and the sources it cites\n"
            "/lang en or /lang fr – the language of my answers\n\n"
            "Under each answer, 👍 or 👎 help me improve."
        ),
        "lang_set": "Got it: I'll answer in English (unless you write to me in French).",
        "lang_usage": "Usage: /lang en or /lang fr. Current language: English.",
        "thanks": "Thanks for your feedback!",
        "expired": "This button has expired. Please ask your question again.",
        "slow_down": (
            "You're asking a lot of questions! I answer at most {limit} questions a minute; "
            "please try again in a moment."
        ),
        "error": "Sorry, something went wrong on my side. Please try again in a moment.",
        "unknown_command": "I don't know that command. Type /help to see what I can do.",
        "inline_more": "Ask a question in private",
        "not_available": "This command is not available.",
    },
}

_COMMANDS: dict[Lang, tuple[tuple[str, str], ...]] = {
    "fr": (
        ("start", "Présentation du bot"),
        ("help", "Comment poser une question, exemples"),
        ("topics", "Les sujets que je connais"),
        ("figures", "Les chiffres clés de l'article"),
        ("source", "L'article et les sources qu'il cite"),
        ("lang", "Langue des réponses : /lang fr ou /lang en"),
        ("ask", "Poser une question (dans un groupe) : /ask question"),
    ),
    "en": (
        ("start", "About this bot"),
        ("help", "How to ask, with examples"),
        ("topics", "The topics I know about"),
        ("figures", "The article's key figures"),
        ("source", "The article and the sources it cites"),
        ("lang", "Answer language: /lang en or /lang fr"),
        ("ask", "Ask a question (in a group): /ask question"),
    ),
}


def bot_commands(lang: Lang) -> list[BotCommand]:
    """The command menu for `setMyCommands`, in `lang`."""
    return [BotCommand(name, description) for name, description in _COMMANDS[lang]]


def ui_text(lang: Lang, key: str, **values: str) -> str:
    """A fixed interface text; `values` are escaped (they may come from users)."""
    return _UI[lang][key].format(**{k: _esc(v) for k, v in values.items()})


def welcome(lang: Lang, first_name: str | None) -> str:
    """The /start message, addressing the user by their (escaped) first name."""
    return ui_text(lang, "welcome", name=f" {first_name}" if first_name else "")


def help_text(lang: Lang, bot_username: str) -> str:
    """The /help message."""
    return ui_text(lang, "help", mention=f"@{bot_username}")


# -- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """What to send for one reply: one or more HTML texts, buttons under the last one."""

    texts: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None = None


def reply_html(reply: Reply) -> str:
    """A reply as Telegram HTML: answer, figures (values in bold), computed notes, source."""
    blocks = [_esc(reply.body.strip())]
    if reply.figures:
        lines = [_esc(caption(reply.lang, "figures"))]
        sep = " : " if reply.lang == "fr" else ": "
        lines += [f"• {_esc(f.label)}{sep}<b>{_esc(f.display)}</b>" for f in reply.figures]
        blocks.append("\n".join(lines))
    if reply.computed:
        blocks.append("\n".join(f"<i>{_esc(line)}</i>" for line in reply.computed))
    if reply.source is not None:
        quote = " ".join(reply.source.quote.split())
        who = f"{_esc(caption(reply.lang, 'source'))} {_esc(reply.source.who)}"
        blocks.append(f"{who}\n<blockquote>{_esc(quote)}</blockquote>")
    return "\n\n".join(b for b in blocks if b)


def render(reply: Reply, *, pick: Pick | None = None, row: int | None = None) -> Rendered:
    """The message(s) and buttons for a reply.

    `pick` says what a suggestion button does: "replace" this message with the chosen answer
    (the default for "did you mean" and for a fallback to a question) or send a "new" one
    (the default for topic lists asked for on purpose, such as /topics). `row` is the
    question log's id for this reply, carried by the 👍/👎 buttons.
    """
    if pick is None:
        pick = "replace" if reply.kind == "suggest" or reply.question else "new"
    rows: list[list[InlineKeyboardButton | None]] = []
    if reply.answered and reply.entry is not None:
        rows.append(
            [
                _vote_button("👍", VoteAction(reply.entry, reply.lang, "+", row)),
                _vote_button("👎", VoteAction(reply.entry, reply.lang, "-", row)),
            ]
        )
        rows += [
            [_button(s.topic, AnswerAction(s.entry, reply.lang, "new"))] for s in reply.related
        ]
    for suggestion in reply.suggestions:
        label = suggestion.question if reply.kind == "suggest" else suggestion.topic
        rows.append([_button(label, AnswerAction(suggestion.entry, reply.lang, pick))])
    kept = [[b for b in line if b is not None] for line in rows]
    kept = [line for line in kept if line]
    keyboard = InlineKeyboardMarkup(kept) if kept else None
    return Rendered(tuple(split_html(reply_html(reply))), keyboard)


def _button(label: str, action: Action) -> InlineKeyboardButton | None:
    """A button, or None when its data cannot fit (entry ids are short: it should not happen)."""
    try:
        data = encode_action(action)
    except ValueError:
        return None
    return InlineKeyboardButton(shorten(label, MAX_BUTTON_LABEL) or "…", callback_data=data)


def _vote_button(label: str, action: VoteAction) -> InlineKeyboardButton | None:
    """A vote button with its log row; without the row if that would not fit in 64 bytes."""
    button = _button(label, action)
    if button is None and action.row is not None:
        button = _button(label, VoteAction(action.entry, action.lang, action.vote))
    return button


def without_vote_row(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same buttons minus the 👍/👎 row, once the user has voted."""
    if markup is None:
        return None
    rows = [
        list(row)
        for row in markup.inline_keyboard
        if not any(isinstance(decode_action(_data(b)), VoteAction) for b in row)
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _data(button: InlineKeyboardButton) -> str | None:
    data = button.callback_data
    return data if isinstance(data, str) else None


# -- inline mode -----------------------------------------------------------------------------


def inline_results(
    replies: list[Reply], topics: dict[str, str], *, limit: int = 50
) -> list[InlineQueryResultArticle]:
    """Inline-mode articles: the topic as title, a one-line description, the HTML answer.

    `topics` maps entry ids to their topic in the reply language (the engine's topic list).
    Results carry no buttons: they are posted in chats where the bot may not even be.
    """
    results: list[InlineQueryResultArticle] = []
    seen: set[str] = set()
    for reply in replies:
        if reply.entry is None or reply.entry in seen:
            continue
        seen.add(reply.entry)
        results.append(
            InlineQueryResultArticle(
                id=f"{reply.lang}:{reply.entry}"[:64],
                title=shorten(topics.get(reply.entry, reply.entry), 100),
                description=one_line(reply.body, 120),
                input_message_content=InputTextMessageContent(
                    split_html(reply_html(reply))[0], parse_mode=ParseMode.HTML
                ),
            )
        )
        if len(results) >= limit:
            break
    return results


def one_line(text: str, limit: int) -> str:
    """The first sentence (or the start) of `text` on one line, at most `limit` characters."""
    flat = " ".join(text.split())
    sentence = re.split(r"(?<=[.!?])\s", flat, maxsplit=1)[0]
    return shorten(sentence, limit)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary with an ellipsis when over `limit`."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def topic_titles(topics: Reply) -> dict[str, str]:
    """Entry id -> topic label, from the engine's topic list."""
    return {s.entry: s.topic for s in topics.suggestions}


# -- splitting -------------------------------------------------------------------------------

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>")


def _units(text: str) -> int:
    """Telegram counts UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Cut HTML into messages of at most `limit` UTF-16 units, at line boundaries.

    Lines are packed greedily. A single line longer than `limit` is cut at spaces (or, for a
    giant word, anywhere outside an entity), closing the tags open at the cut and reopening
    them in the next message, so every piece is valid HTML on its own.
    """
    if _units(text) <= limit:
        return [text]
    # Room for the tags a cut between lines must close and reopen (a quote over several lines).
    room = limit - min(TAG_RESERVE, limit // 4)
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        pieces = [line] if _units(line) <= room else _split_line(line, room)
        for piece in pieces:
            candidate = f"{current}\n{piece}" if current else piece
            if _units(candidate) <= room:
                current = candidate
            else:
                if current.strip():
                    chunks.append(current)
                current = piece
    if current.strip():
        chunks.append(current)
    return _balanced([chunk.strip("\n") for chunk in chunks])


TAG_RESERVE = 200
"""UTF-16 units kept free in each piece (at most a quarter of it) for closing and reopening
the tags open at a cut."""


def _balanced(chunks: list[str]) -> list[str]:
    """Close the tags a chunk leaves open and reopen them at the start of the next one."""
    out: list[str] = []
    carried: list[tuple[str, str]] = []
    for chunk in chunks:
        text = "".join(tag for _, tag in carried) + chunk
        open_tags = list(carried)
        for match in _TAG.finditer(chunk):
            if match.group(1):
                if open_tags and open_tags[-1][0] == match.group(2):
                    open_tags.pop()
            else:
                open_tags.append((match.group(2), match.group(0)))
        if _TAG.sub("", chunk).strip():  # a chunk of closing tags only is not a message
            out.append(text + "".join(f"</{name}>" for name, _ in reversed(open_tags)))
        carried = open_tags
    return out


def _split_line(line: str, limit: int) -> list[str]:
    """Cut one over-long line of HTML into valid pieces of at most `limit` units."""
    tokens = [t for t in re.split(r"(<[^<>]*>|&[#a-zA-Z0-9]+;|\s+)", line) if t]
    pieces: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, the opening tag as written)
    current = ""

    def reopen() -> str:
        return "".join(tag for _, tag in open_tags)

    def close() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(open_tags))

    def flush() -> None:
        nonlocal current
        if current.strip() and current != reopen():
            pieces.append(current + close())
        current = reopen()

    for token in tokens:
        # Leave room for the closing tags a cut may need (and for one more tag).
        budget = limit - _units(close()) - 32
        tag = _TAG.fullmatch(token)
        if _units(current + token) > budget:
            if token.isspace():
                flush()
                continue
            if tag or token.startswith("&") or _units(reopen() + token) <= budget:
                flush()
            else:  # a giant word: cut it anywhere (it holds no tag and no entity)
                for char in token:
                    if _units(current + char) > budget:
                        flush()
                    current += char
                continue
        current += token
        if tag and tag.group(1):
            if open_tags and open_tags[-1][0] == tag.group(2):
                open_tags.pop()
        elif tag:
            open_tags.append((tag.group(2), token))
    flush()
    return pieces
