"""Normalize, index and search questions: pure functions, no I/O, no Telegram.

Shaped like rapidfuzz: small functions, `processor=` passed in, and an immutable `Index`
built once per knowledge version so a question never re-normalizes the knowledge base.

Scoring in one paragraph: a question's content words are weighted by rarity (IDF over the
entries; a word the knowledge base has never seen weighs as much as the rarest one). An
entry's *coverage* is the share of that weight it explains, typo-tolerantly. So "Quel âge a
le patron de DeepSeek ?" explains only "deepseek" (common, light) and is abstained on, while
"cout r1 par milion" is fully explained by the R1 pricing entry.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Literal

from rapidfuzz import distance, fuzz, process

Lang = Literal["fr", "en"]
Processor = Callable[[str], list[str]]

MAX_QUESTION_CHARS = 1000
"""Longer questions are refused politely: no real question needs more, and it bounds work."""

UNKNOWN_WEIGHT = 1.0
UNKNOWN_DECAY = 1.0
FUZZY_POWER = 1.0
SIMILARITY_SHARE = 0.25
OFF_TOPIC_WEIGHT = 10.0
LONG_TOKENS, LONG_OFF_TOPIC_WEIGHT = 7, 3.0
"""In a question of LONG_TOKENS content words or more, an off-topic word weighs less: "my son
installed this Chinese chatbot, is it top of the App Store?" is not about installing it. Short
questions keep the full weight: there the off-topic word is the subject ("DeepSeek's CEO?")."""


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no topic. Stored folded (no accents), before stemming.
FR_STOP = _wordset(
    """
    a ai aie aient aies ait alors as au aucun aussi autre aux avais avait avant avec avez
    avoir avons bah bcp beaucoup bien bon c ca car ce cela celle celui ces cet cette ceux
    chaque chez ci comme comment d dans de des deja depuis dit dire dis dites disent doit
    donc dont du elle elles en encore es est et etaient etait ete etre eu eux fait faire
    fais faut fois g genre ici il ils j je jai juste l la le les leur leurs lui m ma mais me
    meme mes moi mon n ne ni non nos notre nous o on ont ou par parce parle parler pas peu
    peut peux plus pour pourquoi pourrais pq pk pkoi qu quand que quel quelle quelles quels
    qui quoi koi kel sa sais sait savoir se ses si sil son sont sous stp svp sur t ta te tes
    toi ton tous tout toute toutes tres tu un une vos votre vous vraiment y explique
    expliquer expliquez raconte racontes question questions info infos information
    informations svp merci cest quest ya quoi ete etes etions serait seraient sera seront
    combien selon via lors entre apres exactement exact precisement vraiment franchement
    genre truc trucs machin chose choses quelqu quelque quelques on m ai entendu entends lu
    lis vu voir vois sais savais dois pense penses crois savoir connaitre parait apparemment
    paraitrait partout tellement alors bref enfin ouais ben euh hein ok okay voila voici ici
    la-bas dernierement recemment aujourd hui hier article articles parle parlent parlait vs
    versus cb ds pr pq pk bcp tt qd ki ke koi kel jsp chui cmt
    bonjour salut coucou bonsoir merci comprends comprend comprendre trop parmi carrement
    voire avoue suis tombe tombee certain certaine certains pourriez pourrait pourrais
    voudrais aimerais prepare impression desole demande demandais demander gens semaine
    semaines correspond correspondent represente representent designe autres dizaines
    centaines milliers face veux veut voulait voulais voulu rapidement brievement
    nom rien compris pa pouvez pouvons savez dedans gros renvoie renvoient vais emploie
    emploient employer employons employez principalement surtout essentiellement globalement
    temps prend prends prendre prennent nombre nombres yeux agit agissait texte textes
    jen pourkoi chacun chacune vrai vraie mesure mesurent mesurer curieux curieuse lieu bete
    kes maniere manieres suivi suivre autrement pendant simplement respectivement quasi
    sauriez cesse fameux
    """
)
EN_STOP = _wordset(
    """
    a about actually after all also am an and any are as at be been being but by can could
    did do does doing done for from get got had has have having he her here him his how i if
    in into is it its just know let lets like me more most much my no not now of on or our
    out please pls plz really said say says she so some tell than that the their them then
    there these they this those to too u um us very was we were what whats when where which
    who whom why will with would you your yours explain info information question questions
    thing things stuff according via per under over less nearly almost approximately roughly
    around many making like okay right way ways else suddenly simple simply terms everywhere
    name names tell telling talking dollar dollars usd bucks figure figures number
    numbers stat stats exactly precisely basically literally actually heard
    hear read saw seen see think thought guess wonder wondering curious anyone someone
    something anything everyone everybody lately recently today yesterday apparently seems
    seem supposed mean means meant kind sort quite pretty bit lot lots gonna wanna gotta
    okay ok yeah yep hmm uh well anyway article articles piece mentions mention mentioned go
    going goes went give gives gave given make makes made take takes took vs versus abt wut
    wat ur r y tho cuz bc idk pls thx
    hello hi hey thanks keep keeps kept keeping seeing big bigger biggest deal honestly
    generally supposedly sorry dumb silly stupid guys main lay along bring bringing
    understand clue idea basics basic people folks look looks looked looking week weeks
    refer refers referring represent represents correspond corresponds zero up tens dozens
    hundreds thousands want wants wanted wanting nutshell briefly brief quickly
    don doesn didn isn aren wasn ve ll im both try trying own back lol lmao rn ppl wait
    mainly mostly essentially largely primarily goodmorning goodevening goodday goodafternoon
    show shows showed showing shown tbh ngl imo imho whether likes liked bout such text texts
    random came taking frm true real wich wht whos measure measures measured never once other
    whi one type types hw dat before
    others start started starting starts raise raised raises raising total haha hahaha hihi
    hehe mdr ptdr rofl bro dude late otherwise genuinely nd
    """
)
STOP_WORDS = FR_STOP | EN_STOP

# Markers that tell the two languages apart even when every content word is shared.
_FR_MARKERS = _wordset(
    """
    le la les des du de un une est sont et ou que qui quoi quel quelle quels quelles combien
    pourquoi comment pour par sur avec dans ce cette ces c qu l d j n s t moi toi je tu il
    elle nous vous ils elles mon ma mes ton ta son sa au aux a ete etre avoir fait faire pas
    ne plus tres aussi mais donc car chez selon entre dit coute cout prix cher koi kel pk pq
    stp svp cest quest bonjour salut merci coucou bonsoir oui ca va quoi sais savoir bonne
    journee est-ce ont sont etait avait peut peux veut faut vrai deja encore toujours ici
    tout tous rien personne quand depuis pendant apres avant contre sans sous vers leur
    leurs ses nos vos lui eux mes tes entreprise entreprises actions marche monde chine
    americain americaine americains etats unis pays argent combien depense meilleur quelle
    dollars milliards millions jetons formation entrainement interdit recette film
    revoila retour remercie souci soucis pote prochaine tard appelles nom mdr ptdr dispo
    reveille quelqu bientot revoir desole ouais hier soir matin semaine
    interessant serieux vois nan perdu ville bourse krach bisous lien gratuit devant
    filtrage synthese kesako jamais entendu parler se tutoie vouvoie tutoyer vouvoyer
    """
)
_EN_MARKERS = _wordset(
    """
    the a an is are was were what who whom why how which when where does did do of to in on
    for with by and or that this these those it its be been has have had much many cost
    price you your i me my about tell say said can could would should will there their they
    hello hi hey thanks thank please pls yes know why whats best last night nice cheers bye
    good great any some from at as into than then just also only get got make made did done
    will would should could might must us our we he she his her him them his new old money
    spend spent stock stocks shares company companies market china chinese american billion
    million dollars tokens training trained ban banned weather recipe movie score who s t
    don doesn isn wasn aren didn won can't it's what's link
    understood alright sure problem care see ya goodnight noted nothing else thats all
    sense makes take thx thanx tysm ty wassup sup mate guys later goodbye welcome
    hiya morning evening gotta gonna wanna cya go awake anybody anyone someone home buddy
    sir purpose name worries ttyl catch bunch lol interesting wow seriously nope yep yup
    very enough fair neat pretty little here early now number count monthly weekly active
    users parameter connection ties owner doubts slump equities
    happy monday tuesday wednesday thursday friday saturday sunday weekend knock peace
    whatever funny lmao sorry wrong
    """
)

_SCALES = {
    "milliard": "billion",
    "milliards": "billion",
    "md": "billion",
    "mds": "billion",
    "mrd": "billion",
    "mrds": "billion",
    "bn": "billion",
    "billion": "billion",
    "billions": "billion",
    "b": "billion",
    "million": "million",
    "millions": "million",
    "mio": "million",
    "m": "million",
    "mn": "million",
    "mln": "million",
    "k": "thousand",
    "pourcent": "percent",
    "pourcents": "percent",
    "percent": "percent",
    "pct": "percent",
}

# Short model names written with a space ("gpt 4", "r 1") are the same token as "gpt4", "r1".
_JOIN_WITH_DIGIT = frozenset({"gpt", "r", "o", "v", "llama"})

_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "`": "'", "´": "'", "«": '"', "»": '"', "“": '"', "”": '"'}
)
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z0-9]+|%|\$|€")
_ELISION = re.compile(r"\b([cdjlmnst]|qu|jusqu|lorsqu|puisqu)'")
_SUFFIXES = (
    "ements",
    "ement",
    "ations",
    "ation",
    "aient",
    "ait",
    "ent",
    "ing",
    "ed",
    "er",
    "es",
    "e",
)


def fold(text: str) -> str:
    """Lower-case, strip accents, unify quotes, shorten "merciiii": the form comparisons use."""
    text = text.translate(_QUOTES).casefold()
    if not text.isascii():  # plain ASCII has no accent to strip
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = text.replace("œ", "oe").replace("æ", "ae")
    return _REPEATS.sub(r"\1", text)


_REPEATS = re.compile(r"([a-z])\1{2,}")
_PER_CENT = re.compile(r"\b(?:pour|per) ?cents?\b")
_UNITS = {
    w: n
    for n, group in enumerate(
        [
            "",
            "",
            "deux two",
            "trois three",
            "quatre four",
            "cinq five",
            "six",
            "sept seven",
            "huit eight",
            "neuf nine",
            "dix ten",
            "onze eleven",
            "douze twelve",
            "treize thirteen",
            "quatorze fourteen",
            "quinze fifteen",
            "seize sixteen",
            "dixsept seventeen",
            "dixhuit eighteen",
            "dixneuf nineteen",
        ]
    )
    for w in group.split()
}
_TENS = {
    w: 10 * n
    for n, group in enumerate(
        [
            "",
            "",
            "vingt twenty",
            "trente thirty",
            "quarante forty",
            "cinquante fifty",
            "soixante sixty",
            "seventy",
            "eighty",
            "ninety",
        ]
    )
    for w in group.split()
}


_HALF = frozenset({"demi", "demie"})


def _numbers_in_words(raw: list[str]) -> list[str]:
    """ "six" -> "6", "soixante-quinze" / "seventy five" -> "75", "cinq virgule cinq" -> "5,5",
    "five and a half" -> "5,5": figures are asked for in words."""
    out: list[str] = []
    for word in raw:
        value = _UNITS.get(word, _TENS.get(word))
        after_point = len(out) >= 2 and out[-1] in ("virgule", "point") and out[-2].isdigit()
        if after_point and word in ("one", "un", "zero"):
            value = int(word != "zero")  # "sixty-four point one": a digit here, not an article
        if word in _HALF and len(out) >= 2 and out[-1] in ("and", "et") and out[-2].isdigit():
            out[-2:] = [f"{out[-2]},5"]  # "five and a half", "cinq et demi"
        elif word == "half" and len(out) >= 3 and out[-2:] == ["and", "a"] and out[-3].isdigit():
            out[-3:] = [f"{out[-3]},5"]
        elif word in _HALF and len(out) >= 3 and out[-1] == "et" and out[-3].isdigit():
            out[-3:] = [f"{out[-3]},5", out[-2]]  # "cinq milliards et demi"
        elif value is None:
            out.append(word)
        elif after_point:
            out[-2:] = [f"{out[-2]},{value}"]
        elif (
            out
            and out[-1].isdigit()
            and int(out[-1]) % 10 == 0
            and 10 <= int(out[-1]) < 100
            and value < 20
        ):
            out[-1] = str(int(out[-1]) + value)
        else:
            out.append(str(value))
    return out


def _number(raw: str) -> str:
    value = float(raw.replace(",", "."))
    return f"{value:.6f}".rstrip("0").rstrip(".")


_KEEP_S = ("ss", "us", "is", "news")
"""Endings whose final s is not a plural: "news" must not become "new", nor "anxious" "anxiou"."""


@lru_cache(maxsize=1 << 16)
def stem(token: str) -> str:
    """Light, language-blind suffix stripping: "coûté", "couter", "coûts" all become "cout"."""
    if token[0].isdigit():
        return token
    while True:
        before = token
        if len(token) > 3 and token.endswith(("s", "x")) and not token.endswith(_KEEP_S):
            token = token[:-1]
        for suffix in _SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                token = token[: -len(suffix)]
                break
        if token == before:
            return token


_READING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # "start-up", "wake up": one word, so "up" alone ("bringing it up") is a filler.
        (r"\b(start|wake|sign)[ -]?(up)(s?)\b", r"\1\2\3"),
        (r"\bthink[ -]?tanks?\b", "thinktank"),
        (r"\bop[ -]?eds?\b", "oped"),
        (r"\bone[ -]?offs?\b", "oneoff"),
        (r"\bdata ?cent(?:er|re)s?\b|\bcentres? de donnees\b", "datacenters"),
        # The White House is the president, not the House of the House ban.
        (r"\b(?:white[ -]?house|maison[ -]?blanche)\b", "whitehouse"),
        # "En forme ?" asks how we are; "forme" alone stems like "formation" (training).
        (r"\b(?:en|la|pleine|bonne|grande) forme\b", "enforme"),
        # "Good day, how much is R1?": one greeting word, not "good" and the day Trump spoke.
        (r"\bgood (morning|evening|day|afternoon|night)\b", r"good\1"),
        # "Je bosse dans une banque": French slang for working, not the off-topic boss.
        (r"\bboss(?:e|ent|er|ons|ez|ais|ait|aient|ant)\b", "travaille"),
        # "Deepseek stocke mes données": storing data, not the stocks that fell.
        (r"\bstock(?:e|er|ee|ees|es|ent|age|ons|ez)\b", "stockage"),
        # "Qui a fondé DeepSeek ?" asks for its founders, "fonds" are funds, and "tendance de
        # fond" is neither, though the three share a stem; "fondée sur" is "based on".
        (r"\bfonds\b", "funds"),
        (r"\bfonde(?:e|es|s)?\b(?! sur)", "founded"),
        # Fillers: "so far", "I feel lost", "j'ai raté un épisode", "in plain words" ask
        # nothing.
        (r"\b(?:so|thus) far\b", " "),
        (r"\bfeel (?:(?:so|kinda|totally|a bit|completely|pretty) )?lost\b", " "),
        (r"\b(?:j ai |j )?rate (?:un|des) episodes?\b", " "),
        (r"\b(?:in|en) (?:plain|simple|simples) (?:words|terms|mots|termes)\b", " "),
        # "Au fond" is "basically", not the "tendance de fond" of the gap's entry.
        (r"\bau fond\b", " "),
        # "I found out", "just found this": finding, not founding (the founders, off-topic).
        (r"\bfound out\b", "saw"),
        (
            r"\b(i|we|you|they|he|she|just|finally|recently|have|has|had|never|ve) found\b",
            r"\1 saw",
        ),
        (r"^found (?=this|that|an?|some)\b", "saw "),
        # Chat shorthand: "tl;dr", "never heard of em b4".
        (r"\btl dr\b", "tldr"),
        (r"\bb4\b", "before"),
        (r"\bem\b", "them"),
        # "The eu" is the EU (lower case, "eu" is French for "had").
        (r"\bthe eu\b", "the ue"),
        # "2,2 $, c'est quoi ce chiffre ?": beside a number, "chiffre" is that number.
        (r"\bchiffres?\b(?=.*\d)", ""),
        (r"\b(\w*\d.*)\bchiffres?\b", r"\1"),
    )
)
"""How French and English are read whatever the knowledge, in order, before words are split:
compounds that are one word, fillers, words whose meaning depends on their neighbours. What a
phrase means in one knowledge base is that file's `phrases` (`Phrases`)."""
_ANY_READING = re.compile(r"\b(?:" + "|".join(f"(?:{p.pattern})" for p, _ in _READING) + ")")
"""One pass that tells whether any reading rule applies: most texts need none. Every rule
starts at a word boundary, so the search tries them only there."""


def _phrase_pattern(said: Iterable[str]) -> re.Pattern[str]:
    """One pattern for a phrase rule's spellings, matched as whole words."""
    return re.compile(r"\b(?:" + "|".join(f"(?:{s})" for s in said) + r")\b")


@dataclass(frozen=True, eq=False)
class Phrases:
    """A knowledge file's phrase rules, compiled once per version: (pattern, read as, only
    near). Compared and hashed by identity, so memoized words can be keyed by it cheaply."""

    rules: tuple[tuple[re.Pattern[str], str, re.Pattern[str] | None], ...] = ()
    any: re.Pattern[str] | None = None
    """Every rule's pattern in one: most questions say none of them."""


def compile_phrases(rules: Iterable[tuple[Sequence[str], str, Sequence[str]]]) -> Phrases:
    """(spellings, read as, near spellings) in the file's order -> `Phrases`."""
    compiled = tuple(
        (_phrase_pattern(said), read_as, _phrase_pattern(near) if near else None)
        for said, read_as, near in rules
    )
    if not compiled:
        return NO_PHRASES
    return Phrases(compiled, re.compile("|".join(f"(?:{p.pattern})" for p, _, _ in compiled)))


NO_PHRASES = Phrases()
"""The reading of a text before any knowledge file is known."""


def words(text: str, phrases: Phrases = NO_PHRASES) -> list[str]:
    """Folded words, stop words included, with phrases read in context (`_READING`, then the
    knowledge file's `phrases`): what small talk and the decision look at."""
    return list(_words_once(text, phrases))


def _folded(text: str) -> str:
    return _PER_CENT.sub(" % ", _ELISION.sub(r"\1 ", fold(text)))


@lru_cache(maxsize=1 << 12)
def as_typed(text: str) -> tuple[str, ...]:
    """Folded words as typed, no phrase rewritten: the evidence of a message's language."""
    return tuple(_TOKEN.findall(_folded(text)))


@lru_cache(maxsize=1 << 12)
def _words_once(text: str, phrases: Phrases) -> tuple[str, ...]:
    """Memoized like `_stable_tokens`: small talk, the decision and the tokens themselves each
    ask for a question's words, about ten times a question."""
    folded = _folded(text)
    if _ANY_READING.search(folded):
        for pattern, replacement in _READING:
            folded = pattern.sub(replacement, folded)
    if phrases.any is not None and phrases.any.search(folded):
        for pattern, read_as, near in phrases.rules:
            if near is None or near.search(folded):
                folded = pattern.sub(read_as, folded)
    return tuple(_numbers_in_words(_TOKEN.findall(folded)))


def tokens(text: str, phrases: Phrases = NO_PHRASES) -> list[str]:
    """Content tokens: numbers canonical ("2,2" -> "2.2"), scales named, stop words out, stemmed.

    Total and idempotent: `tokens(" ".join(tokens(s))) == tokens(s)` for any string. One pass
    can leave work for the next ("gpt 4.0" -> "gpt 4", "cinqs" -> "cinq"), so passes repeat
    until nothing changes (two or three in practice; bounded anyway).
    """
    return list(_stable_tokens(text, phrases))


@lru_cache(maxsize=1 << 12)
def _stable_tokens(text: str, phrases: Phrases) -> tuple[str, ...]:
    """Memoized (a pure function of the text): lint and the engine ask for a question's tokens
    several times, and tokenizing is most of what a question costs."""
    out = _tokens_once(text, phrases)
    for _ in range(8):
        again = _tokens_once(" ".join(out), phrases)
        if again == out:
            break
        out = again
    return tuple(out)


_COUNTRY_US = re.compile(r"\bU\.?S\b")
_UNION_EU = re.compile(r"\bE\.?U\b")
_BEFORE_COUNTRY = _wordset("the in aux les des across en au of")
_BEFORE_VERB_AI = _wordset("j je l m t n y s")
_VERSUS = _wordset("vs versus contre against")
"""Beside "us", these make it the country: "us vs china", "china versus us"."""


def _content_stop_word(raw: Sequence[str], i: int, upper_us: bool, upper_eu: bool) -> str | None:
    """ "us", "eu" and "ai" are stop words (the pronoun, "j'ai") except where they name the United
    States ("the US", "in the us", "us vs china") or AI ("the US put into AI", "ai industry")."""
    word, before = raw[i], raw[i - 1] if i > 0 else ""
    after = raw[i + 1] if i + 1 < len(raw) else ""
    if word == "us" and (upper_us or before in _BEFORE_COUNTRY or _VERSUS & {before, after}):
        return "usa"
    if word == "eu" and (upper_eu or i == 0):
        return "ue"  # "the EU", "eu ai spending", not "j'ai eu"
    if word == "ai" and before not in _BEFORE_VERB_AI:
        return "ia"
    return None


def _tokens_once(text: str, phrases: Phrases) -> list[str]:
    out: list[str] = []
    raw = words(text, phrases)
    upper_us = _COUNTRY_US.search(text) is not None
    upper_eu = _UNION_EU.search(text) is not None
    for i, word in enumerate(raw):
        if word in ("$", "€"):
            continue
        if word in ("us", "ai", "eu"):
            named = _content_stop_word(raw, i, upper_us, upper_eu)
            if named is not None:
                out.append(named)
            continue
        if word == "%":
            out.append("percent")
            continue
        if word[0].isdigit():
            if re.fullmatch(r"\d+(?:[.,]\d+)?", word):
                out.append(_number(word))
                continue
            # "6m", "78musd", "2023t1": split digits from letters and treat each part.
            parts = re.findall(r"\d+|[a-z]+", word)
            out.extend(tokens(" ".join(parts), phrases) if len(parts) > 1 else [])
            continue
        if word in _SCALES and (word not in ("m", "b", "k", "md", "mn") or _after_number(raw, i)):
            out.append(_SCALES[word])
            continue
        if word.isdigit():
            out.append(word)
            continue
        if word in STOP_WORDS:
            continue
        if word in _JOIN_WITH_DIGIT and i + 1 < len(raw) and re.fullmatch(r"\d", raw[i + 1]):
            raw[i + 1] = word + raw[i + 1]
            continue
        stemmed = stem(word)
        if len(stemmed) > 1 and stemmed not in STOP_WORDS:
            out.append(stemmed)
    return _join_model_numbers(out)


def _join_model_numbers(out: list[str]) -> list[str]:
    """ "gpt", "4" -> "gpt4" also when the number was "4.0" or stop words stood between.

    Joining on the output, not only on the surface words, keeps `tokens` idempotent.
    """
    joined: list[str] = []
    for tok in out:
        if joined and joined[-1] in _JOIN_WITH_DIGIT and len(tok) == 1 and tok.isdigit():
            joined[-1] += tok
        else:
            joined.append(tok)
    return joined


def _after_number(raw: Sequence[str], i: int) -> bool:
    return i > 0 and raw[i - 1][0].isdigit()


def normalize(text: str) -> str:
    """Content tokens joined: the form logs and rapidfuzz scorers see."""
    return " ".join(tokens(text))


def synonym_map(
    groups: Iterable[Iterable[str]], *, processor: Processor = tokens
) -> dict[str, str]:
    """Each one-word synonym's token -> its group's first token ("panique" -> "inquiet")."""
    mapping: dict[str, str] = {}
    for group in groups:
        forms = [toks[0] for toks in map(processor, group) if len(toks) == 1]
        if forms:
            mapping.update({form: forms[0] for form in forms})
    return mapping


def detect_language(text: str, lexicon: dict[str, Lang] | None = None) -> Lang | None:
    """fr, en, or None when the text gives no evidence either way (callers then pick French).

    `lexicon` maps content tokens known to belong to one language (from the index) to it.
    """
    fr = en = 0.0
    if re.search(r"[éèêàùçâîôûœ]", text.casefold()):
        fr += 1.5
    if re.search(r"\b(?:[cdjlmnst]|qu)['’]\w", text.casefold()):
        fr += 1.0
    if re.search(r"\w['’](?:s|t|re|ve|ll|m|d)\b", text.casefold()):
        en += 1.0
    for word in as_typed(text):  # before rewrites: "who founded" is English, "founder" not
        fr += word in _FR_MARKERS
        en += word in _EN_MARKERS
        if lexicon is not None:
            lang = lexicon.get(stem(word))
            fr += 0.5 * (lang == "fr")
            en += 0.5 * (lang == "en")
    if fr == en:
        return None
    return "fr" if fr > en else "en"


_QUANTITY = re.compile(
    # "Numéro combien ?" asks a rank, which the App Store entry gives without a figure.
    r"\b(?:(?<!numero )combien|cb|how (?:much|many)|"
    r"quel(?:le)? (?:montant|pourcentage|somme|chiffre)|"
    r"what (?:amount|percentage|sum|figure)|de quel montant|dollar (?:figure|amount)|"
    r"(?:exact|precise|exacte|precis|precise) (?:amount|figure|sum|number|cost|montant|chiffre|"
    r"dollar|somme|cout|budget)|"
    r"(?:montant|chiffres?|somme|amount|figure|budget|nombre) (?:exact|precis|exacte|precise)|"
    r"en chiffres? (?:exacts?|precis)|(?:au|in|en) total|total$|"
    r"total (?:\w+ ){0,2}(?:number|amount|figure|sum|count|downloads|telechargements|"
    r"investment|investissement|funding|financement|spend|spending|cost|cout|budget|in|en|of)|"
    r"(?:nombre|montant|somme|count|number|amount|figure|investment|funding) total|"
    r"(?:budget|amount|montant|cost|cout|spent|depense).* (?:en|in) (?:dollars|usd))\b"
)


_HOW_MUCH_SAID = re.compile(
    r"\b(?:rethink\w*|reconsider\w*|question\w*|doubts? (?:about|on|over)|doubting|"
    r"second guess\w*|worr\w* about|care about) how (?:much|many)\b"
)
"""A "how much" that is what someone doubts, not what the question asks ("are Meta's bosses
rethinking how much they burn on AI?" is answered by what the article says of their doubts)."""


def asks_quantity(text: str, phrases: Phrases = NO_PHRASES) -> bool:
    """ "Combien…", "how many…": the answer must be a number, so a fact without one won't do."""
    said = _HOW_MUCH_SAID.sub(" ", " ".join(words(text, phrases)))
    return _QUANTITY.search(said) is not None


_WHEN = re.compile(
    r"\bquand$|"
    r"\bwhen (?:was|were|did|does|do|is|are|has|have|will|would)\b|"
    r"\bquand (?:est|a|ont|sont|etait|avait|va|vont|sera|deepseek)\b|"
    r"\b(?:c est quand|depuis quand|since when|since what|depuis combien|for how long|how long ago|"
    r"(?:what|which|quel|quelle|en quel|en quelle|a quel|a quelle|de quelle) "
    r"(?:year|annee|date|day|month|jour|mois)|"
    r"how old|quel age|launch date|release date|how long (?:did|does|will|would|has|have|is|was)|"
    r"(?:en )?combien de temps|"
    r"date (?:de|d) (?:creation|lancement|sortie|fondation|naissance))\b"
)
_DATED = re.compile(
    r"\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|janvier|fevrier|mars|avril|juin|juillet|aout|septembre|"
    r"octobre|novembre|decembre|january|february|march|april|june|july|august|september|"
    r"october|november|december|(?:19|20)\d\d|[tq][1-4])\b"
)


def asks_time(text: str, phrases: Phrases = NO_PHRASES) -> bool:
    """ "When…", "depuis quand…", "how old…": the answer must say when, so a fact that names
    no day or date won't do ("when was DeepSeek created?" is not its App Store rank).
    A "when" inside a sentence ("markets fell when it took off") asks nothing."""
    return _WHEN.search(" ".join(words(text, phrases))) is not None


def states_time(text: str) -> bool:
    """Whether a text names a day, a month, a year or a quarter ("lundi", "T4 2023")."""
    return _DATED.search(" ".join(words(text))) is not None


# --- index and search ----------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A text that speaks for an entry; `strength` < 1 for supporting text like the answer."""

    key: str
    text: str
    lang: Lang | None = None
    strength: float = 1.0
    is_variant: bool = True


@dataclass(frozen=True)
class Index:
    """Everything a search needs, computed once per knowledge version.

    `canonical` maps every word the index knows as written (after `tokens`) to the word it is
    scored as: itself, its synonym group's name, or OFF_TOPIC for words the knowledge file
    declares it cannot answer about ("founder", "CEO").
    """

    keys: tuple[str, ...]
    variants: tuple[str, ...]
    variant_docs: tuple[Document, ...]
    variant_owner: tuple[int, ...]
    entry_variants: tuple[tuple[int, ...], ...]
    entry_sorted: tuple[tuple[str, ...], ...]
    """Each entry's variants with their words sorted: `token_sort_ratio` is `ratio` on these,
    so a search sorts only the question's words."""
    strength: tuple[dict[str, float], ...]
    variant_count: tuple[dict[str, int], ...]
    """How many of an entry's variants use a word: leave-one-out needs to know who else does."""
    base_strength: tuple[dict[str, float], ...]
    """An entry's words from its other texts (keywords, topic, answer), without the variants."""
    postings: dict[str, tuple[int, ...]]
    idf: dict[str, float]
    unknown_idf: float
    canonical: dict[str, str]
    vocab_by_length: dict[int, tuple[str, ...]]
    decimals: dict[str, str]
    """Each whole part shared by exactly one number with decimals the index knows ("64" ->
    the word "64.1" is scored as): a figure cited rounded down."""
    lexicon: dict[str, Lang]
    phrases: Phrases
    """How the knowledge file reads phrases: questions are read the same way."""
    resolved: dict[tuple[str, float], tuple[str, float] | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    """`resolve`'s answers for words the index does not know, kept because the index never
    changes: typos and off-topic words recur, and each costs a scan of the vocabulary."""


OFF_TOPIC = "\x00off-topic"


def index_to_json(index: Index) -> dict[str, object]:
    """The index as plain JSON data, to keep between runs (`index_from_json` reads it back).
    The phrases are left out: they are compiled from the knowledge file, which is read anyway."""
    return {
        "keys": index.keys,
        "variants": index.variants,
        "variant_docs": [
            [d.key, d.text, d.lang, d.strength, d.is_variant] for d in index.variant_docs
        ],
        "variant_owner": index.variant_owner,
        "entry_variants": index.entry_variants,
        "entry_sorted": index.entry_sorted,
        "strength": index.strength,
        "variant_count": index.variant_count,
        "base_strength": index.base_strength,
        "postings": index.postings,
        "idf": index.idf,
        "unknown_idf": index.unknown_idf,
        "canonical": index.canonical,
        "vocab_by_length": {str(n): words for n, words in index.vocab_by_length.items()},
        "decimals": index.decimals,
        "lexicon": index.lexicon,
    }


def index_from_json(data: Mapping[str, Any], phrases: Phrases) -> Index:
    """`index_to_json`'s data as the index it was; raises AttributeError, KeyError, TypeError
    or ValueError on data of another shape."""
    return Index(
        keys=tuple(data["keys"]),
        variants=tuple(data["variants"]),
        variant_docs=tuple(
            Document(k, t, lang, float(s), bool(v)) for k, t, lang, s, v in data["variant_docs"]
        ),
        variant_owner=tuple(data["variant_owner"]),
        entry_variants=tuple(tuple(v) for v in data["entry_variants"]),
        entry_sorted=tuple(tuple(v) for v in data["entry_sorted"]),
        strength=tuple(dict(d) for d in data["strength"]),
        variant_count=tuple(dict(d) for d in data["variant_count"]),
        base_strength=tuple(dict(d) for d in data["base_strength"]),
        postings={t: tuple(ids) for t, ids in data["postings"].items()},
        idf=dict(data["idf"]),
        unknown_idf=float(data["unknown_idf"]),
        canonical=dict(data["canonical"]),
        vocab_by_length={int(n): tuple(w) for n, w in data["vocab_by_length"].items()},
        decimals=dict(data["decimals"]),
        lexicon=dict(data["lexicon"]),
        phrases=phrases,
    )


@dataclass(frozen=True)
class Match:
    """One entry's score for a question; `coverage` is the share of the question it explains."""

    key: str
    score: float
    coverage: float
    similarity: float


def build_index(
    documents: Iterable[Document],
    *,
    processor: Processor | None = None,
    synonyms: Mapping[str, str] | None = None,
    off_topic: Iterable[str] = (),
    phrases: Phrases = NO_PHRASES,
) -> Index:
    """`processor` defaults to `tokens` reading `phrases`."""
    processor = processor or partial(tokens, phrases=phrases)
    synonyms = synonyms or {}
    canonical: dict[str, str] = dict(synonyms)
    for word in off_topic:
        canonical.update({tok: OFF_TOPIC for tok in processor(word)})
    keys: list[str] = []
    position: dict[str, int] = {}
    strength: list[dict[str, float]] = []
    counts: list[dict[str, int]] = []
    base: list[dict[str, float]] = []
    variants: list[str] = []
    variant_docs: list[Document] = []
    owner: list[int] = []
    seen_in: dict[str, dict[Lang, int]] = defaultdict(lambda: {"fr": 0, "en": 0})
    for doc in documents:
        if doc.key not in position:
            position[doc.key] = len(keys)
            keys.append(doc.key)
            strength.append({})
            counts.append(defaultdict(int))
            base.append({})
        i = position[doc.key]
        toks = []
        for surface in processor(doc.text):
            tok = canonical.setdefault(surface, surface)
            if tok == OFF_TOPIC:
                continue
            toks.append(tok)
            if doc.lang is not None:
                seen_in[surface][doc.lang] += 1
            if not doc.is_variant and base[i].get(tok, 0.0) < doc.strength:
                base[i][tok] = doc.strength
        if doc.is_variant and toks:
            variants.append(" ".join(toks))
            variant_docs.append(doc)
            owner.append(i)
            for tok in set(toks):
                counts[i][tok] += 1
    for i, toks_of in enumerate(strength):
        toks_of.update(base[i])
        for tok, n_variants in counts[i].items():
            toks_of[tok] = max(base[i].get(tok, 0.0), _variant_strength(n_variants))
    n = len(keys)
    postings_lists: dict[str, list[int]] = defaultdict(list)
    for i, toks_of in enumerate(strength):
        for tok in toks_of:
            postings_lists[tok].append(i)
    by_length: dict[int, list[str]] = defaultdict(list)
    for surface, tok in canonical.items():
        if not surface[0].isdigit() and (tok in postings_lists or tok == OFF_TOPIC):
            by_length[len(surface)].append(surface)
    entry_variants: list[list[int]] = [[] for _ in keys]
    for v, i in enumerate(owner):
        entry_variants[i].append(v)
    sorted_text = {}
    for text in variants:
        in_order = " ".join(sorted(text.split()))
        sorted_text[text] = text if in_order == text else in_order
    return Index(
        keys=tuple(keys),
        variants=tuple(variants),
        variant_docs=tuple(variant_docs),
        variant_owner=tuple(owner),
        entry_variants=tuple(tuple(v) for v in entry_variants),
        entry_sorted=tuple(tuple(sorted_text[variants[v]] for v in own) for own in entry_variants),
        strength=tuple(strength),
        variant_count=tuple(dict(c) for c in counts),
        base_strength=tuple(base),
        postings={t: tuple(ids) for t, ids in postings_lists.items()},
        idf={tok: math.log(1.0 + n / len(ids)) for tok, ids in postings_lists.items()},
        unknown_idf=math.log(1.0 + n),
        canonical={s: t for s, t in canonical.items() if t in postings_lists or t == OFF_TOPIC},
        vocab_by_length={k: tuple(v) for k, v in by_length.items()},
        decimals=_decimals(canonical, postings_lists),
        lexicon=_lexicon(seen_in),
        phrases=phrases,
    )


def _decimals(canonical: Mapping[str, str], known: Mapping[str, object]) -> dict[str, str]:
    by_whole: dict[str, list[str]] = defaultdict(list)
    for surface, tok in canonical.items():
        whole, point, decimals = surface.partition(".")
        if point and whole.isdigit() and decimals.isdigit() and tok in known:
            by_whole[whole].append(tok)
    return {whole: toks[0] for whole, toks in by_whole.items() if len(set(toks)) == 1}


LONE_WORD_STRENGTH = 0.6
"""How much a word only one variant of an entry uses speaks for the entry: one writer's turn of
phrase ("the best ones") is weaker evidence than a word several variants, a keyword or the
topic use, so it cannot alone pull an unrelated question ("best pizza toppings") its way."""


def _variant_strength(n_variants: int) -> float:
    return LONE_WORD_STRENGTH if n_variants == 1 else 1.0


LEXICON_RATIO = 4
"""A word belongs to a language when its texts use it this many times more than the other's:
French questions borrow English words ("le pricing"), but far less often than English ones."""


def _lexicon(seen_in: Mapping[str, Mapping[Lang, int]]) -> dict[str, Lang]:
    lexicon: dict[str, Lang] = {}
    for tok, n in seen_in.items():
        if n["fr"] >= LEXICON_RATIO * n["en"] + 1:
            lexicon[tok] = "fr"
        elif n["en"] >= LEXICON_RATIO * n["fr"] + 1:
            lexicon[tok] = "en"
    return lexicon


RESOLVED_CACHE = 100_000
"""Most unknown words an index remembers the resolution of; then it starts over."""


def resolve(token: str, index: Index, *, cutoff: float = 80.0) -> tuple[str, float] | None:
    """The index's word for a (possibly misspelt) question word, with how sure we are.

    Short words need a closer spelling ("valu" must not become "valeur"); a swap of two
    letters counts as one typo ("trian" is "train").
    """
    if token in index.canonical:
        return index.canonical[token], 1.0
    whole = token.isdigit() and len(token) > 1
    if not whole and (len(token) < 4 or token[0].isdigit()):
        return None
    key = (token, cutoff)
    if key in index.resolved:
        return index.resolved[key]
    best = _rounded(token, index) if whole else _resolve(token, index, cutoff)
    if len(index.resolved) >= RESOLVED_CACHE:
        index.resolved.clear()
    index.resolved[key] = best
    return best


ROUNDED_SURE = 0.9
"""How sure a whole number read as the one figure it rounds down from is: as a typo guess."""


def _rounded(token: str, index: Index) -> tuple[str, float] | None:
    """ "Les 64 milliards": a figure cited by its whole part (64.1). Not a single digit: "5
    years ago" is no 5.5 billion dollars."""
    word = index.decimals.get(token)
    return (word, ROUNDED_SURE) if word is not None else None


def _resolve(token: str, index: Index, cutoff: float) -> tuple[str, float] | None:
    if len(token) <= 5:
        # A four-letter word is a three-letter one only with its last letter doubled ("putt"
        # from "putting" is "put"): "snow" is not "sow", nor "denv" "dev" (all 85.7).
        doubled = token[-1] == token[-2]
        cutoff = max(cutoff, 86.0 if len(token) == 4 and not doubled else 85.0)
    best: tuple[str, float] | None = None
    for length in range(len(token) - 2, len(token) + 3):
        pool = index.vocab_by_length.get(length)
        if not pool:
            continue
        # `fuzz.ratio` is 100 * (1 - indel distance / total length). The token is in no pool
        # (it would be in `canonical`), so a word of its own length is at least 2 edits away:
        # skip a pool where even the closest possible word would score under the cutoff.
        closest = max(abs(length - len(token)), 2 if length == len(token) else 0)
        if 100.0 * (1.0 - closest / (length + len(token))) < cutoff - 1e-6:
            hit = None
        else:
            hit = process.extractOne(token, pool, scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit is None and length == len(token):
            hit = process.extractOne(
                token, pool, scorer=distance.OSA.normalized_similarity, score_cutoff=0.79
            )
            hit = (hit[0], 100 * hit[1], hit[2]) if hit is not None else None
        if hit is not None and (best is None or hit[1] > best[1] * 100):
            best = (index.canonical[hit[0]], hit[1] / 100)
    if best is None and len(token) >= 7:
        # A misspelt ending the stemmer could not strip ("entrainemnt", "trainnig"): a known
        # word of 5+ letters followed by a suffix with letters swapped or one left out.
        for length in range(len(token) - 1, 4, -1):
            head, rest = token[:length], sorted(token[length:])
            if index.canonical.get(head, OFF_TOPIC) != OFF_TOPIC and any(
                _misspelt(rest, sorted(suffix)) for suffix in _SUFFIXES
            ):
                return index.canonical[head], 0.8
    return best


def _misspelt(rest: list[str], suffix: list[str]) -> bool:
    """Sorted letters `rest` are `suffix`'s, swapped or with one letter left out."""
    if rest == suffix:
        return True
    return len(suffix) == len(rest) + 1 and any(
        suffix[:i] + suffix[i + 1 :] == rest for i in range(len(suffix))
    )


_LONG_STOP_STEMS = tuple(sorted({stem(w) for w in STOP_WORDS if len(w) >= 6}))


@lru_cache(maxsize=1 << 12)
def _misspelt_stop_word(token: str) -> bool:
    """A word one letter away from a long stop word ("exacly", "mainy"); only ever asked of words
    the knowledge base does not know, so "cost" can never be mistaken for "most"."""
    if len(token) < 5 or token[0].isdigit():
        return False
    return (
        process.extractOne(token, _LONG_STOP_STEMS, scorer=distance.OSA.distance, score_cutoff=1)
        is not None
    )


_INTRODUCTIONS = (
    ("je", "suis"),
    ("j", "suis"),
    ("chui",),
    ("i", "m"),
    ("i", "am"),
    ("im",),
    ("as", "a"),
    ("as", "an"),
    ("en", "tant", "que"),
    ("en", "tant", "qu"),
    ("being", "a"),
    ("being", "an"),
    ("i", "run", "a"),
    ("i", "own", "a"),
    ("i", "manage", "a"),
    ("je", "dirige", "un"),
    ("je", "dirige", "une"),
    ("je", "gere", "un"),
    ("je", "gere", "une"),
    ("i", "work", "as"),
    ("i", "work", "in"),
    ("i", "work", "at"),
    ("i", "work", "for"),
    ("je", "travaille", "comme"),
    ("je", "travaille", "dans"),
    ("je", "travaille", "chez"),
    ("je", "travaille", "en"),
)
_ARTICLES = _wordset("un une a an")
_PLACE_LINKS = _wordset("in at from d de en a au aux du")
_RELATIVES = _wordset(
    """
    fils fille filles enfants enfant gamin gamins gosse gosses ado ados petit petite petits petites
    mari femme epoux epouse pere mere papa maman frere soeur freres soeurs neveu niece cousin
    cousine oncle tante grand grands parents beau belle copain copine copains copines pote potes
    ami amie amis amies voisin voisine voisins collegue collegues patron chef prof professeur
    son sons daughter daughters kid kids child children teen teenage teenager grandson
    granddaughter grandkids grandma grandpa grandmother grandfather wife husband dad mom mum
    father mother brother sister nephew niece cousin uncle aunt friend friends buddy mate
    neighbour neighbor coworker coworkers colleague colleagues boss teacher roommate partner
    client clients cliente clientes customer customers patient patients eleve eleves
    etudiants student students
    """
)
_INTRODUCTION_WORDS = 3
"""An introduction says at most this many words: "prof d'histoire-géo", not the question after."""
_SELF = _wordset("i im je my")
"""What follows "as a teacher" when it introduces the writer ("as a teacher I…")."""
_SAYING = _wordset(
    "dit disent pense pensent croit croient trouve affirme pretend raconte demande says said "
    "thinks think claims reckons told tells asked asks believes keeps insists"
)
"""What a relative does when a short message quotes them ("ma voisine dit que…")."""
_WORKING = _wordset("works work worked travaille travaillent")
"""What a relative does when a message says where ("my uncle works in manufacturing")."""


def _introduced(raw: Sequence[str], start: int) -> range:
    """The words from `start` that say what someone is or where they work: an article, then
    at most _INTRODUCTION_WORDS words, places linked in ("farmer in Iowa"), up to a filler."""
    j = start
    while j < len(raw) and raw[j] in _ARTICLES:
        j += 1
    said_at: list[int] = []
    while j < len(raw) and len(said_at) < _INTRODUCTION_WORDS:
        if raw[j] in STOP_WORDS and raw[j] not in _PLACE_LINKS:
            break
        if raw[j] not in STOP_WORDS:
            said_at.append(j)
        j += 1
    return range(start, said_at[-1] + 1 if said_at else start)


@lru_cache(maxsize=1 << 12)
def about_the_asker(text: str, phrases: Phrases = NO_PHRASES) -> frozenset[str]:
    """Tokens that say who is asking, not what: "je suis pharmacienne à Lyon", "I'm a farmer in
    Iowa", "my teenage son" (in a long message only). Messages introduce their writer, and a
    profession or a town must neither count against every entry nor match one ("journaliste",
    "développeur")."""
    raw = words(text, phrases)
    span: set[int] = set()
    # "Un cadeau pour ma mère" asks about her; a rambling message only mentions her.
    rambles = len(set(tokens(text, phrases))) >= LONG_TOKENS
    for i in range(len(raw)):
        if i > 0 and raw[i - 1] in ("mon", "ma", "mes", "my", "our", "notre", "nos"):
            kin = [j for j in range(i, min(i + 3, len(raw))) if raw[j] in _RELATIVES]
            after = kin[-1] + 1 if kin else len(raw)
            if kin and (rambles or (after < len(raw) and raw[after] in _SAYING)):
                span.update(range(i, after))
            if kin and rambles and after + 1 < len(raw) and raw[after] in _WORKING:
                span.update(_introduced(raw, after + 1))  # "my uncle works in manufacturing"
        for intro in _INTRODUCTIONS:
            if tuple(raw[i : i + len(intro)]) != intro:
                continue
            said = _introduced(raw, i + len(intro))
            if intro[0] in ("as", "being") and (
                said.stop >= len(raw) or raw[said.stop] not in _SELF
            ):
                continue  # "how old is it as a company": no one introduced
            span.update(said)
    if not span:
        return frozenset()
    inside = tokens(" ".join(raw[j] for j in sorted(span)), phrases)
    outside = tokens(" ".join(w for j, w in enumerate(raw) if j not in span), phrases)
    return frozenset(inside) - frozenset(outside)


TOP = 5
"""How many matches a search returns unless asked for more."""


def search(
    question: str,
    index: Index,
    *,
    processor: Processor | None = None,
    scorer: Callable[..., float] = fuzz.token_sort_ratio,
    limit: int = TOP,
    candidates: int = 30,
    exclude_variant: int | None = None,
) -> list[Match]:
    """Entries ranked for a question, best first; scores are 0-100 and comparable across calls.

    `exclude_variant` scores as if that variant were not in the index (leave-one-out lint);
    word weights are not recomputed, which is off by one document in the whole index.
    """
    read = processor or partial(tokens, phrases=index.phrases)
    q_tokens = list(dict.fromkeys(read(question)))
    if not q_tokens or not index.keys:
        return []
    weights: list[float] = []
    resolved: list[tuple[str, float] | None] = []
    unknown = 0
    off_topic_weight = OFF_TOPIC_WEIGHT if len(q_tokens) < LONG_TOKENS else LONG_OFF_TOPIC_WEIGHT
    # Who is asking is told in `tokens`' words; another processor's words would not match.
    asker = about_the_asker(question, index.phrases) if processor is None else frozenset()
    for tok in q_tokens:
        hit = None if tok in asker else resolve(tok, index)
        if hit is not None and hit[0] == OFF_TOPIC and hit[1] < 1.0:
            # Only close to an off-topic word ("clip" is not "chips", "loin" not "login"): an
            # unknown word, not a sure sign the question is about something the article lacks.
            hit = None
        if hit is not None and hit[0] == OFF_TOPIC:
            # A word the knowledge file says it cannot answer about: full weight, no match.
            resolved.append(None)
            weights.append(index.unknown_idf * off_topic_weight)
        elif tok in asker or (hit is None and _misspelt_stop_word(tok)):
            # "je suis pharmacienne", or "exacly", "becuase" (a filler typed wrong): nothing
            # about the subject.
            resolved.append(None)
            weights.append(0.0)
        elif hit is None:
            # Words the knowledge base never uses count against every entry, the first one fully
            # (it is often the question's real subject), later ones less: long questions ramble.
            unknown += 1
            resolved.append(None)
            weights.append(index.unknown_idf * UNKNOWN_WEIGHT / unknown**UNKNOWN_DECAY)
        else:
            resolved.append(hit)
            weights.append(index.idf[hit[0]])
    total = sum(weights)
    found = [
        (hit[0], weight * hit[1] ** FUZZY_POWER)
        for hit, weight in zip(resolved, weights, strict=True)
        if hit is not None
    ]
    if not found:
        return []
    # Shortlist on selective words only: a word most entries share ("deepseek") would make every
    # question visit every entry. It still counts in each candidate's coverage below.
    common = max(candidates, len(index.keys) // 20)
    selective = [(t, w) for t, w in found if len(index.postings[t]) <= common]
    rough: dict[int, float] = defaultdict(float)
    if selective:
        for tok, weight in selective:
            for i in index.postings[tok]:
                rough[i] += weight * index.strength[i][tok]
        shortlist = heapq.nlargest(candidates, rough, key=rough.__getitem__)
    else:
        rarest = min(found, key=lambda f: len(index.postings[f[0]]))[0]
        shortlist = list(index.postings[rarest][: candidates * 4])
    q_text = " ".join(
        hit[0] if hit else tok
        for hit, tok, weight in zip(resolved, q_tokens, weights, strict=True)
        if hit or weight
    )
    left_out = -1 if exclude_variant is None else index.variant_owner[exclude_variant]
    # Every shortlisted entry's variants scored in one rapidfuzz call (the query is processed
    # once, the loop runs in C); an entry's similarity is its best variant's score.
    # `token_sort_ratio` is `ratio` on sorted words: the variants' are sorted in the index.
    presorted = scorer is fuzz.token_sort_ratio
    choices: list[str] = []
    slot: list[int] = []
    for n, i in enumerate(shortlist):
        own = index.entry_variants[i]
        texts: Sequence[str] = (
            index.entry_sorted[i] if presorted else [index.variants[v] for v in own]
        )
        if i == left_out:
            texts = [t for v, t in zip(own, texts, strict=True) if v != exclude_variant]
        choices.extend(texts)
        slot.extend([n] * len(texts))
    if presorted:
        q_text, scorer = " ".join(sorted(q_text.split())), fuzz.ratio
    best = [0.0] * len(shortlist)
    for _, similarity, j in process.extract(q_text, choices, scorer=scorer, limit=None):
        if similarity > best[slot[j]]:
            best[slot[j]] = similarity
    matches = []
    for i, similarity in zip(shortlist, best, strict=True):
        strength = index.strength[i]
        if i == left_out:
            strength = _without_variant(index, exclude_variant or 0)
        coverage = sum(weight * strength.get(tok, 0.0) for tok, weight in found) / total
        score = 100.0 * ((1 - SIMILARITY_SHARE) * coverage + SIMILARITY_SHARE * similarity / 100.0)
        matches.append(Match(index.keys[i], round(score, 2), round(coverage, 4), similarity))
    matches.sort(key=lambda m: m.score, reverse=True)
    return matches[:limit]


def _without_variant(index: Index, variant: int) -> dict[str, float]:
    """An entry's word strengths had one of its variants never been written."""
    i = index.variant_owner[variant]
    strength = dict(index.strength[i])
    for tok in set(index.variants[variant].split()):
        left = index.variant_count[i].get(tok, 0) - 1
        base = index.base_strength[i].get(tok)
        if left > 0:
            strength[tok] = max(base or 0.0, _variant_strength(left))
        elif base is None:
            strength.pop(tok, None)
        else:
            strength[tok] = base
    return strength
