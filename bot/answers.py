"""Replies as data: what the bot says, in which language, with which figures and source.

Adapters (Telegram, CLI) only render a `Reply`; they never decide what to answer.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

from bot import chitchat, matching
from bot.knowledge import LANGS, Entry, Figure, KnowledgeBase, Lang, load_knowledge

ReplyKind = Literal["answer", "suggest", "fallback", "chitchat", "prompt"]

# Calibrated on the tuning and dev splits and the lint's leave-one-out variants, never on the
# held-out split: abstention on out-of-scope questions comes first, then in-scope accuracy.
ANSWER_AT = 58.0
"""A best match at or above this score is answered, if it also clears the two below."""
MIN_COVERAGE = 0.55
"""Share of the question's weighted words an answered entry must explain."""
MARGIN = 3.0
"""A runner-up this close to the best match makes the bot ask instead of guessing."""
CLEAR_AT, CLEAR_COVERAGE, CLEAR_MARGIN = 55.0, 0.5, 20.0
"""A slightly weaker match is answered too when nothing else comes near it."""
LONG_QUESTION = 7
"""A question with this many content words or more is long: it rambles ("my cousin keeps
bringing up…"), and its words the knowledge base never uses lower every entry's coverage
alike. A long question is also answered under the two below when its best match leads by
MARGIN: calibrated on long messages written for it (`questions_dev6.jsonl`, 50 of 80 out of
scope), where these thresholds answer 97% of the in-scope ones and decline every other one."""
LONG_AT, LONG_COVERAGE = 40.0, 0.30
SUGGEST_AT = 40.0
"""Below an answer, from this score the bot asks "did you mean"; below it, lists the topics."""
FALLBACK_TOPICS = 20
"""A fallback lists at most this many topics (the closest first), then points to /topics:
every topic of a large knowledge base would be a wall of text no one reads."""


Verdict = Literal["answer", "suggest", "fallback"]

_ORDINAL = re.compile(
    r"(?:deux|trois|quatr|cinqu|six|sept|huit|neuv|dix)iem|third|fourth|fifth|sixth|seventh|"
    r"eighth|ninth|tenth"
)
"""Ranks as `matching.tokens` leaves them ("troisième" -> "troisiem")."""
_WEEKDAYS = {
    word: day
    for day, names in enumerate(
        (
            "lundi monday",
            "mardi tuesday",
            "mercredi wednesday",
            "jeudi thursday",
            "vendredi friday",
            "samedi saturday",
            "dimanche sunday",
        )
    )
    for word in names.split()
}

_IDENTITY = (
    "americain americaine usa etats unis origine pays nationalite country nationality hype buzz "
    "entreprise societe startup boite firme company firm business whole entier tech technologie "
    "technology"
)
"""Besides its own words, what a question about the article's subject may ask: what kind of
company, from where ("DeepSeek, chinois ou américain ?", "c koi cette boîte au juste")."""
SUBJECT_SHARE = 0.8
"""A word of the article's title found in this share of the entries names its subject."""

_OTHER_THAN = re.compile(
    r"\b(?:other than|apart from|aside from|besides|except|excluding|any other|which other|"
    r"what other|who else|what else|a part|hormis|en dehors|excepte|sauf|outre (?:le|la|les)|"
    r"quel(?:le)?s? autres?)\b"
)
"""'Apart from Trump, who…', 'quel autre pays…': a question about something *other* than what
the article names matches that fact's words, yet the article has nothing else to say."""


def decide(matches: list[matching.Match], *, words: int = 0) -> Verdict:
    """Answer only a clear, well-covered best match; ask when something is close; else say so.

    `words` is how many content words the question has (see LONG_QUESTION)."""
    if not matches:
        return "fallback"
    best = matches[0]
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    lead = best.score - runner_up
    if best.score >= ANSWER_AT and best.coverage >= MIN_COVERAGE and lead >= MARGIN:
        return "answer"
    if best.score >= CLEAR_AT and best.coverage >= CLEAR_COVERAGE and lead >= CLEAR_MARGIN:
        return "answer"
    if (
        words >= LONG_QUESTION
        and best.score >= LONG_AT
        and best.coverage >= LONG_COVERAGE
        and lead >= MARGIN
    ):
        return "answer"
    return "suggest" if best.score >= SUGGEST_AT else "fallback"


@dataclass(frozen=True)
class FigureView:
    """A cited figure as shown: `display` is the value worded in the reply's language."""

    value: float
    unit: str
    scale: str
    qualifier: str | None
    label: str
    display: str
    period: str | None
    reported_by: str


@dataclass(frozen=True)
class Source:
    who: str
    quote: str


@dataclass(frozen=True)
class Suggestion:
    """An entry offered to the user: `question` is a way to ask it, `topic` a button label."""

    entry: str
    question: str
    topic: str


@dataclass(frozen=True)
class Reply:
    question: str
    kind: ReplyKind
    lang: Lang
    body: str
    entry: str | None = None
    """The entry answered; None unless `kind` is "answer"."""
    closest: str | None = None
    """The best-matching entry even when the bot abstains: what moderators review in misses."""
    topic: str | None = None
    score: float = 0.0
    figures: tuple[FigureView, ...] = ()
    computed: tuple[str, ...] = ()
    source: Source | None = None
    suggestions: tuple[Suggestion, ...] = ()
    related: tuple[Suggestion, ...] = ()

    @property
    def answered(self) -> bool:
        return self.kind == "answer"

    @property
    def text(self) -> str:
        """The whole reply as plain text, exactly as the console and `ask` print it."""
        t = _TEXTS[self.lang]
        parts = [self.body]
        if self.figures:
            parts.append(
                caption(self.lang, "figures")
                + "\n"
                + "\n".join(
                    f"• {f.label} : {f.display}"
                    if self.lang == "fr"
                    else f"• {f.label}: {f.display}"
                    for f in self.figures
                )
            )
        if self.computed:
            parts.append("\n".join(self.computed))
        if self.source is not None:
            parts.append(f"{t['source']} {self.source.who}\n« {self.source.quote} »")
        if self.suggestions:
            if self.kind == "suggest":
                parts.append(
                    "\n".join(f"{n}. {s.question}" for n, s in enumerate(self.suggestions, 1))
                )
            else:
                parts.append(" · ".join(s.topic for s in self.suggestions))
        if self.related:
            parts.append(t["related"] + " " + " · ".join(s.topic for s in self.related))
        return "\n\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The `ask --json` contract: exactly these keys, other tools rely on them."""
        return {
            "question": self.question,
            "answered": self.answered,
            "entry": self.entry,
            "score": round(self.score, 1),
            "lang": self.lang,
            "text": self.text,
            "figures": [
                {
                    "value": f.value,
                    "unit": f.unit,
                    "scale": f.scale,
                    "qualifier": f.qualifier,
                    "label": f.label,
                    "display": f.display,
                    "period": f.period,
                    "reported_by": f.reported_by,
                }
                for f in self.figures
            ],
            "source": f"{self.source.who}: « {self.source.quote} »" if self.source else None,
            "suggestions": [{"entry": s.entry, "question": s.question} for s in self.suggestions],
        }


_TEXTS: dict[Lang, dict[str, str]] = {
    "fr": {
        "figures": "Chiffres cités :",
        "source": "Source :",
        "related": "Voir aussi :",
        "suggest": "Je ne suis pas sûr d'avoir compris. Vouliez-vous dire :",
        "fallback": (
            "Je n'ai pas trouvé la réponse dans l'article, et je préfère ne rien inventer. "
            "Voici les sujets que je connais :"
        ),
        "fallback_some": (
            "Je n'ai pas trouvé la réponse dans l'article, et je préfère ne rien inventer. "
            "Voici quelques-uns des {count} sujets que je connais (/topics les liste tous) :"
        ),
        "empty": (
            "Posez-moi une question sur l'article consacré à DeepSeek, par exemple : "
            "« Combien a coûté l'entraînement de GPT-4 ? » ou « Quel est le prix de DeepSeek-R1 ? »"
        ),
        "too_long": (
            "Votre message est trop long (plus de {limit} caractères). "
            "Posez une question courte, en une ou deux phrases."
        ),
        "greeting": (
            "Bonjour ! Posez-moi une question sur l'essor de DeepSeek : "
            "coûts, prix, réactions aux États-Unis…"
        ),
        "thanks": "Avec plaisir ! N'hésitez pas si vous avez une autre question sur DeepSeek.",
        "bye": "Au revoir, et à bientôt !",
        "how_are_you": "Très bien, merci ! Que voulez-vous savoir sur DeepSeek ?",
        "who_are_you": (
            "Je suis un bot qui répond aux questions sur un article consacré à l'essor "
            "de DeepSeek, en citant ses chiffres et ses sources."
        ),
        "ack": "D'accord ! Une autre question sur DeepSeek ?",
        "complaint": (
            "Désolé de ne pas avoir aidé. Reformulez votre question sur l'article, ou tapez "
            "/topics pour voir ce que je sais."
        ),
        "computed": (
            "Calcul à partir des chiffres cités : {big} représente {approx} {ratio} fois {small}."
        ),
        "more_than": "plus de",
        "about": "environ",
        "overview": "Les chiffres clés de l'article :",
        "topics": "Voici les sujets que je connais :",
    },
    "en": {
        "figures": "Cited figures:",
        "source": "Source:",
        "related": "See also:",
        "suggest": "I'm not sure I understood. Did you mean:",
        "fallback": (
            "I couldn't find that in the article, and I'd rather not make anything up. "
            "Here are the topics I know about:"
        ),
        "fallback_some": (
            "I couldn't find that in the article, and I'd rather not make anything up. "
            "Here are some of the {count} topics I know about (/topics lists them all):"
        ),
        "empty": (
            "Ask me a question about the article on DeepSeek, for example: "
            '"How much did GPT-4 cost to train?" or "What does DeepSeek-R1 cost?"'
        ),
        "too_long": (
            "Your message is too long (over {limit} characters). "
            "Please ask a short question, in a sentence or two."
        ),
        "greeting": "Hello! Ask me about DeepSeek's rise: costs, prices, reactions in the US…",
        "thanks": "You're welcome! Ask away if you have another question about DeepSeek.",
        "bye": "Goodbye, see you soon!",
        "how_are_you": "Very well, thanks! What would you like to know about DeepSeek?",
        "who_are_you": (
            "I'm a bot that answers questions about an article on DeepSeek's rise, "
            "citing its figures and sources."
        ),
        "ack": "All right! Another question about DeepSeek?",
        "complaint": (
            "Sorry I was no help. Try rewording your question about the article, or type "
            "/topics to see what I know."
        ),
        "computed": "Computed from the cited figures: {big} is {approx} {ratio} times {small}.",
        "more_than": "more than",
        "about": "about",
        "overview": "The article's key figures:",
        "topics": "Here are the topics I know about:",
    },
}


Caption = Literal["figures", "source", "related"]


def caption(lang: Lang, which: Caption) -> str:
    """The headings a reply's parts go under, shared by every adapter so they never drift."""
    return _TEXTS[lang][which]


def _number(value: float, lang: Lang) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


_QUALIFIERS: dict[Lang, dict[str, str]] = {
    "fr": {"under": "moins de ", "nearly": "près de ", "about": "environ "},
    "en": {"under": "under ", "nearly": "nearly ", "about": "about "},
}


def word_figure(figure: Figure, lang: Lang, *, qualified: bool = True) -> str:
    """ "78 millions de dollars" / "$78 million": the value as a reader expects to see it."""
    n = _number(figure.value, lang)
    q = _QUALIFIERS[lang].get(figure.qualifier or "", "") if qualified else ""
    plural = figure.value >= 2
    if lang == "fr":
        scale = {"one": "", "million": " million", "billion": " milliard"}[figure.scale]
        scale += "s" if scale and plural else ""
        if figure.unit == "percent":
            return f"{q}{n} %"
        if figure.unit == "USD/1M tokens":
            return f"{q}{n}{scale} $ par million de jetons"
        return f"{q}{n}{scale} de dollars" if scale else f"{q}{n} $"
    scale = {"one": "", "million": " million", "billion": " billion"}[figure.scale]
    if figure.unit == "percent":
        return f"{q}{n}%"
    if figure.unit == "USD/1M tokens":
        return f"{q}${n}{scale} per million tokens"
    return f"{q}${n}{scale}"


def compare(figures: list[Figure], lang: Lang) -> tuple[str, ...]:
    """A ratio between two cited amounts of the same kind, always marked as computed by us."""
    amounts = [f for f in figures if f.unit != "percent" and f.value > 0]
    if (
        len(amounts) != 2
        or amounts[0].unit != amounts[1].unit
        or amounts[0].scale != amounts[1].scale
    ):
        return ()
    small, big = sorted(amounts, key=lambda f: f.value)
    ratio = big.value / small.value
    t = _TEXTS[lang]
    # "under 6" makes the ratio a floor; otherwise it is rounded and said to be approximate.
    if small.qualifier == "under":
        approx, shown = t["more_than"], _number(math.floor(ratio), lang)
    else:
        approx, shown = t["about"], _number(round(ratio, 1 if ratio < 10 else 0), lang)
    return (
        t["computed"].format(
            big=word_figure(big, lang),
            small=word_figure(small, lang, qualified=False),
            approx=approx,
            ratio=shown,
        ),
    )


_COUNTS = [[str(n)] for n in range(2, 10)]


def _counts(entry: Entry) -> bool:
    """Whether an entry gives a number: a cited figure, or a count spelt out among its
    keywords ("trois", "three": the three reasons; "numéro 1" is a rank, not a count)."""
    return bool(entry.figures) or any(
        k.isalpha() and matching.tokens(k)[:1] in _COUNTS for k in entry.keywords
    )


def _documents(kb: KnowledgeBase) -> list[matching.Document]:
    docs: list[matching.Document] = []
    for entry in kb.entries:
        docs.extend(matching.Document(entry.id, q, lang) for lang, q in entry.questions.all())
        for lang in LANGS:
            docs.append(matching.Document(entry.id, entry.topic.get(lang), lang, 1.0, False))
            docs.append(matching.Document(entry.id, entry.answer.get(lang), lang, 0.5, False))
        docs.extend(matching.Document(entry.id, k, None, 1.0, False) for k in entry.keywords)
        for figure in entry.figures:
            value = f"{figure.value:g} {figure.scale if figure.scale != 'one' else ''}"
            docs.append(matching.Document(entry.id, value, None, 1.0, False))
    return docs


def _day_names(words: Iterable[str]) -> frozenset[int]:
    """The days of the week these words name, Monday as 0, in either language."""
    return frozenset(_WEEKDAYS[w] for w in words if w in _WEEKDAYS)


@dataclass(frozen=True)
class Engine:
    """One knowledge version and its index: immutable, so it can be swapped as a whole."""

    kb: KnowledgeBase
    index: matching.Index = field(repr=False)
    path: Path | None = None
    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)
    """Entry id -> entry, built once: replies look entries up by id many times."""
    _counted: frozenset[str] = field(init=False, repr=False, compare=False)
    """Ids of the entries that state a number (`_counts`): only they say how much."""
    _dated: frozenset[str] = field(init=False, repr=False, compare=False)
    """Ids of the entries whose answer names a day or a date: only they say when."""
    _weekdays: dict[str, frozenset[int]] = field(init=False, repr=False, compare=False)
    """Entry id -> the days of the week its answer names (Trump spoke on a Monday)."""
    _known: frozenset[str] = field(init=False, repr=False, compare=False)
    """Every word the knowledge writes, folded: small talk must not read one as a typo of its
    own ("axios" is not "adios", nor "tank" "thank")."""
    _subject: tuple[frozenset[str], frozenset[str]] = field(init=False, repr=False, compare=False)
    """The article's subject words and its presenting entry's words (`_subject_words`)."""

    def __post_init__(self) -> None:
        by_id: dict[str, Entry] = {}
        for entry in self.kb.entries:
            by_id.setdefault(entry.id, entry)  # the first one wins, as in `kb.entry`
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_subject", self._subject_words())
        entries = by_id.values()
        object.__setattr__(self, "_counted", frozenset(e.id for e in entries if _counts(e)))
        dated = (e.id for e in entries if any(matching.states_time(e.answer.get(x)) for x in LANGS))
        object.__setattr__(self, "_dated", frozenset(dated))
        weekdays = {
            e.id: _day_names(w for x in LANGS for w in matching.words(e.answer.get(x)))
            for e in entries
        }
        object.__setattr__(self, "_weekdays", weekdays)
        known = frozenset(w for text in self.kb.texts() for w in matching.as_typed(text))
        object.__setattr__(self, "_known", known)

    @classmethod
    def from_knowledge(
        cls,
        kb: KnowledgeBase,
        path: Path | None = None,
        *,
        index_data: Mapping[str, Any] | None = None,
    ) -> Engine:
        """`index_data`: this knowledge's index as `matching.index_to_json` wrote it, read back
        instead of built (`bot.index_cache`)."""
        phrases = matching.compile_phrases((p.said, p.read_as, p.near) for p in kb.phrases)
        if index_data is not None:
            return cls(kb, matching.index_from_json(index_data, phrases), path)
        read = partial(matching.tokens, phrases=phrases)
        index = matching.build_index(
            _documents(kb),
            synonyms=matching.synonym_map(kb.synonyms, processor=read),
            off_topic=kb.off_topic,
            phrases=phrases,
        )
        return cls(kb, index, path)

    @classmethod
    def from_path(cls, path: Path | str) -> Engine:
        """Load, validate and index a file; raises `KnowledgeError` when it cannot be used."""
        return cls.from_knowledge(load_knowledge(path), Path(path))

    @property
    def version(self) -> str:
        return self.kb.version

    @property
    def entry_count(self) -> int:
        return len(self.kb.entries)

    def entry(self, entry_id: str) -> Entry | None:
        """The entry with this id, in constant time (`kb.entry` scans the list)."""
        return self._by_id.get(entry_id)

    def _tokens(self, text: str) -> list[str]:
        """A question's tokens read with this knowledge's phrases, as its index was built."""
        return matching.tokens(text, self.index.phrases)

    def _words(self, text: str) -> list[str]:
        return matching.words(text, self.index.phrases)

    def language(self, question: str, lang_hint: Lang | None = None) -> Lang:
        """The question's own language when it is clear; else the user's preference; else French."""
        return matching.detect_language(question, self.index.lexicon) or lang_hint or "fr"

    def ask(self, question: str, *, lang_hint: Lang | None = None) -> Reply:
        lang = self.language(question, lang_hint)
        t = _TEXTS[lang]
        emoji = chitchat.classify(question, self._known) if not self._words(question) else None
        if emoji is not None:
            return Reply(question, "chitchat", lang, t[emoji])
        if not question.strip() or (not self._tokens(question) and not self._words(question)):
            return Reply(question, "prompt", lang, t["empty"])
        if len(question) > matching.MAX_QUESTION_CHARS:
            return Reply(
                question, "prompt", lang, t["too_long"].format(limit=matching.MAX_QUESTION_CHARS)
            )
        talk = chitchat.classify(question, self._known)
        if talk is not None:
            return Reply(question, "chitchat", lang, t[talk])
        rest = chitchat.about_the_article(question)
        asker = matching.about_the_asker(question, self.index.phrases) if rest else frozenset()
        if rest is not None and all(
            t in asker or matching.resolve(t, self.index) is None for t in rest
        ):
            # "tldr de l'article ? j'ai la flemme de tout lire": what the rest says, no fact has.
            return self._about_the_article(question, lang)
        verdict, matches = self.judge(question)
        best = matches[0].score if matches else 0.0
        if (talk := self._small_talk_around(question, verdict)) is not None:
            return Reply(question, "chitchat", lang, t[talk])
        if verdict == "fallback" and (talk := self._says_nothing_we_know(question)):
            # "c'est quoi ton blaze", "greetings from rainy Manchester, bot": small talk in
            # words the knowledge never uses; a friendly word answers it better than topics.
            return Reply(question, "chitchat", lang, t[talk])
        if verdict == "answer":
            return self.reply_for(matches[0].key, lang, question=question, score=best)
        if verdict == "suggest":
            close = [m for m in matches if m.score >= SUGGEST_AT][:3]
            return Reply(
                question,
                "suggest",
                lang,
                t["suggest"],
                closest=matches[0].key,
                score=best,
                suggestions=tuple(self._suggestion(m.key, lang) for m in close),
            )
        return self._fallback(question, lang, best, [m.key for m in matches])

    def judge(
        self, question: str, *, exclude_variant: int | None = None
    ) -> tuple[Verdict, list[matching.Match]]:
        """What to do with a question, and the matches behind the decision."""
        when = matching.asks_time(question, self.index.phrases)
        # "When did DeepSeek come out?" is no "what is DeepSeek?"
        subject = not when and self._asks_what_the_subject_is(question)
        matches = matching.search(
            question,
            self.index,
            exclude_variant=exclude_variant,
            limit=len(self.index.keys) if subject else matching.TOP,
        )
        words = len(set(self._tokens(question)))
        if subject:
            # "DeepSeek c'est quoi, une boîte chinoise ?": every word is one the entry that
            # presents the subject uses; others may share them all, it is still what is asked,
            # though it may rank below the first five (so all are ranked).
            first = [m for m in matches if m.key == self.kb.article.entry]
            if first:
                return "answer", first + [m for m in matches if m.key != first[0].key][:4]
            matches = matches[: matching.TOP]
        if (
            self._unknown_number(question)
            or _OTHER_THAN.search(" ".join(self._words(question)))
            or self._another_day(question, matches)
        ):
            # "Les 500 milliards ?", "top 10": a number the article never gives is not one of
            # its facts, however well the rest of the question matches; nor is whatever is
            # "other than" a fact it names, nor a day it does not say ("Trump's Thursday
            # statement": he spoke on Monday): ask, never assert.
            verdict = decide(matches, words=words)
            return ("suggest" if verdict == "answer" else verdict), matches
        if when:
            # "When was DeepSeek created?", "combien de temps…": only a fact that says when.
            return self._among(matches, self._dated, words=words)
        if matching.asks_quantity(question, self.index.phrases):
            # "Combien…", "how many…": only a fact that states a number can answer ("how much
            # did it cost to train" is the cost, not the strategy).
            return self._among(matches, self._counted, words=words)
        return decide(matches, words=words), matches

    @staticmethod
    def _among(
        matches: list[matching.Match], able: frozenset[str], *, words: int
    ) -> tuple[Verdict, list[matching.Match]]:
        """The verdict when only the `able` facts can answer (those that state a number, or a
        date): they are ranked, and must clear their runner-up, among themselves; the others
        stay behind as suggestions. Such a fact only wins when it was (nearly) the best match
        anyway."""
        fit = [m for m in matches if m.key in able]
        if not fit or fit[0].score < matches[0].score - MARGIN:
            verdict = decide(matches, words=words)
            return ("suggest" if verdict == "answer" else verdict), matches
        rest = [m for m in matches if m not in fit]
        verdict = decide(fit, words=words)
        if verdict == "fallback" and decide(matches, words=words) == "suggest":
            verdict = "suggest"
        return verdict, fit + rest

    def _asks_what_the_subject_is(self, question: str) -> bool:
        """Whether a question names the article's subject and asks nothing the entry that
        presents it (`article.entry`) does not say; who is asking aside."""
        subject, identity = self._subject
        if not subject:
            return False
        asker = matching.about_the_asker(question, self.index.phrases)
        named = False
        for tok in set(self._tokens(question)) - asker:
            hit = matching.resolve(tok, self.index)
            if hit is None or hit[0] not in identity:
                return False
            named = named or hit[0] in subject
        return named

    def _subject_words(self) -> tuple[frozenset[str], frozenset[str]]:
        """The subject's words (the title's words most entries use: "deepseek") and those of
        the entry presenting it, as the index spells them; none without such an entry."""
        entry = self.entry(self.kb.article.entry or "")
        if entry is None:
            return frozenset(), frozenset()

        def spelt(text: str) -> frozenset[str]:
            hits = (matching.resolve(t, self.index) for t in self._tokens(text))
            return frozenset(hit[0] for hit in hits if hit is not None and hit[1] == 1.0)

        title = spelt(" ".join(self.kb.article.title.get(lang) for lang in LANGS))
        least = SUBJECT_SHARE * len(self.index.keys)
        subject = frozenset(t for t in title if len(self.index.postings.get(t, ())) >= least)
        own = [entry.topic.get(lang) + " " + entry.answer.get(lang) for lang in LANGS]
        return subject, spelt(" ".join([*own, *entry.keywords, _IDENTITY])) | subject

    def _small_talk_around(self, question: str, verdict: Verdict) -> chitchat.Kind | None:
        """ "Salut l'ami !", "thx m8": a greeting around words we do not know is still one.

        It gives way to an answer, unless that answer rests on typo guesses alone ("en forme ?"
        read as "formation"); a message using three known words ("thanks, now the house ban")
        or, besides the phrase, a word the article cannot answer about ("hi, who founded it")
        is a question."""
        marked = chitchat.marker(question, self._known)
        if marked is None:
            return None
        talk, rest = marked
        hits = [matching.resolve(tok, self.index) for tok in set(self._tokens(rest))]
        if (matching.OFF_TOPIC, 1.0) in hits:
            return None  # "hi, who founded it"; the phrase's own words may be ("happy friday")
        known = sum(hit is not None and hit[1] == 1.0 for hit in hits)
        return talk if known <= 2 and (verdict != "answer" or known == 0) else None

    def _says_nothing_we_know(self, question: str) -> chitchat.Kind | None:
        """Small talk (`chitchat.said_to_us`) whose other words the knowledge base neither
        uses nor declines. Beside a greeting, thanks or goodbye word, a word it only guesses
        at counts as unknown ("greetings" is not "great" typed wrong); a message that is only
        said to the bot must have no word it knows at all, or "is coffee bad for your heart?"
        would get who we are instead of the topics."""
        said = chitchat.said_to_us(question, self._known)
        if said is None:
            return None
        talk, rest = said
        only_to_us = talk == "who_are_you"
        for tok in self._tokens(question if only_to_us else " ".join(rest)):
            hit = matching.resolve(tok, self.index)
            if hit is not None and (only_to_us or hit[1] == 1.0):
                return None
        return talk

    def _another_day(self, question: str, matches: list[matching.Match]) -> bool:
        """Whether the question names a day of the week and the best match's fact names
        others, not that one."""
        asked = _day_names(self._words(question))
        said = self._weekdays.get(matches[0].key, frozenset()) if matches else frozenset()
        return bool(asked and said) and not asked & said

    def _unknown_number(self, question: str) -> bool:
        """Whether the question cites a number the knowledge base does not give, not even
        rounded down ("64" is its 64.1), or a rank ("troisième", "fourth") it never writes."""
        return any(
            (t[0].isdigit() and matching.resolve(t, self.index) is None)
            or (_ORDINAL.fullmatch(t) is not None and t not in self.index.canonical)
            for t in self._tokens(question)
        )

    def reply_for(
        self, entry_id: str, lang: Lang, *, question: str = "", score: float = 100.0
    ) -> Reply:
        """The full answer of one entry: for a matched question or a pressed button."""
        entry = self.entry(entry_id)
        if entry is None:
            return self._fallback(question, lang)
        return Reply(
            question=question,
            kind="answer",
            lang=lang,
            body=entry.answer.get(lang),
            entry=entry.id,
            closest=entry.id,
            topic=entry.topic.get(lang),
            score=score,
            figures=tuple(_view(f, lang) for f in entry.figures),
            computed=compare(entry.figures, lang),
            source=Source(entry.source.who.get(lang), entry.source.quote),
            related=tuple(self._suggestion(r, lang) for r in entry.related),
        )

    def search(
        self, question: str, *, lang_hint: Lang | None = None, limit: int = 5
    ) -> list[Reply]:
        """Several plausible answers at once, for inline mode; empty means "show the topics"."""
        lang = self.language(question, lang_hint)
        if not question.strip() or len(question) > matching.MAX_QUESTION_CHARS:
            return []
        return [
            self.reply_for(m.key, lang, question=question, score=m.score)
            for m in matching.search(question, self.index, limit=limit)
            if m.score >= SUGGEST_AT
        ]

    def topics(self, lang: Lang) -> Reply:
        return Reply(
            "", "fallback", lang, _TEXTS[lang]["topics"], suggestions=self._all_topics(lang)
        )

    def figures_overview(self, lang: Lang) -> Reply:
        """Every key figure in one list, each with the entry it comes from."""
        seen: set[tuple[float, str, str, str | None]] = set()
        views = []
        for figure in (f for e in self.kb.entries for f in e.figures):
            key = (figure.value, figure.unit, figure.scale, figure.qualifier)
            if key not in seen:  # the same figure cited by two entries is listed once
                seen.add(key)
                views.append(_view(figure, lang))
        return Reply("", "fallback", lang, _TEXTS[lang]["overview"], figures=tuple(views))

    def about(self, lang: Lang) -> Reply:
        """What the article is and whom it cites."""
        article = self.kb.article
        return Reply(
            "", "fallback", lang, f"{article.title.get(lang)}\n\n{article.summary.get(lang)}"
        )

    def _about_the_article(self, question: str, lang: Lang) -> Reply:
        """The entry the knowledge file names for "what is the article about?", followed by
        the article's summary; the summary alone when it names none."""
        if self.kb.article.entry is None:
            return replace(self.about(lang), question=question)
        reply = self.reply_for(self.kb.article.entry, lang, question=question)
        return replace(reply, body=f"{reply.body}\n\n{self.kb.article.summary.get(lang)}")

    def _suggestion(self, entry_id: str, lang: Lang) -> Suggestion:
        entry = self.entry(entry_id)
        assert entry is not None, entry_id
        return _suggestion(entry, lang)

    def _all_topics(self, lang: Lang) -> tuple[Suggestion, ...]:
        return tuple(_suggestion(e, lang) for e in self.kb.entries)

    def _fallback(
        self, question: str, lang: Lang, score: float = 0.0, nearby: Sequence[str] = ()
    ) -> Reply:
        """ "Not in the article", with the topics: all of them in a small knowledge base; in a
        large one the entries closest to the question, then the first ones, FALLBACK_TOPICS in
        all, and a pointer to /topics."""
        t = _TEXTS[lang]
        if len(self.kb.entries) <= FALLBACK_TOPICS:
            body, topics = t["fallback"], self._all_topics(lang)
        else:
            body = t["fallback_some"].format(count=_number(len(self.kb.entries), lang))
            ids = dict.fromkeys(k for k in nearby if k in self._by_id)
            for entry in self.kb.entries:
                if len(ids) >= FALLBACK_TOPICS:
                    break
                ids.setdefault(entry.id)
            topics = tuple(self._suggestion(k, lang) for k in list(ids)[:FALLBACK_TOPICS])
        return Reply(
            question,
            "fallback",
            lang,
            body,
            closest=nearby[0] if nearby else None,
            score=score,
            suggestions=topics,
        )


def _suggestion(entry: Entry, lang: Lang) -> Suggestion:
    return Suggestion(entry.id, getattr(entry.questions, lang)[0], entry.topic.get(lang))


def _view(figure: Figure, lang: Lang) -> FigureView:
    return FigureView(
        value=figure.value,
        unit=figure.unit,
        scale=figure.scale,
        qualifier=figure.qualifier,
        label=figure.label.get(lang),
        display=word_figure(figure, lang),
        period=figure.period,
        reported_by=figure.reported_by,
    )


class EngineRef:
    """The engine in use; `swap` replaces it in one step, so a question sees one version."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()

    @property
    def current(self) -> Engine:
        return self._engine

    def swap(self, engine: Engine) -> Engine:
        with self._lock:
            old, self._engine = self._engine, engine
        return old
