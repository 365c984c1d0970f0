"""Synthetic knowledge bases and a fixed question set, derived from the shipped knowledge.

Why mutation rather than random text: matching cost depends on how words are shared. A real
knowledge base of 50,000 facts reuses a few words everywhere ("deepseek", "cost"), has many
subjects that recur across entries, and a long tail of rare words. So each synthetic entry
copies a shipped entry (its variants, answer, keywords, figures and source), then:

- renames its subject ("DeepSeek" becomes the entry's own subject word) and adds a second one;
- replaces about a third of the content words with words from a pool of 60,000 pseudo-words,
  drawn with a Zipf-Mandelbrot law, so vocabulary grows with size as Heaps' law says it does
  in real corpora (a few thousand distinct words at 1,000 entries, tens of thousands at 50,000);
- sometimes splices two shipped variants together (recombination), or borrows a real word
  from another shipped entry (topics overlap in real knowledge bases).

Everything is seeded: the same size always gives the same knowledge base, and a smaller one
is a prefix of a larger one (entry k depends only on entries before it).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal

from bot import matching
from bot.knowledge import LANGS, KnowledgeBase, Lang, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "knowledge" / "deepseek.yaml"
OUT = Path(__file__).resolve().parent / "out"

SEED = 20250127
SIZES = (1_000, 10_000, 50_000)
VARIANTS_PER_LANG = 6
"""12 variants per entry, 6 in each language (issue 5)."""
POOL_SIZE = 60_000
ZIPF_S, ZIPF_Q = 1.0, 2.7
"""Zipf-Mandelbrot rank law for pseudo-word draws: p(rank r) ~ 1 / (r + q) ** s."""
SUBSTITUTE = 0.33
"""Share of a variant's content words replaced by pool words."""
REAL_SHARE = 0.25
"""Share of substitutions that borrow a real word from the shipped knowledge instead."""
RECOMBINE = 0.25
"""Share of variants spliced from two shipped variants."""
KEYWORDS = 8
"""Keywords per synthetic entry (shipped entries have about 40; real ones have fewer)."""

_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_DEEPSEEK = re.compile(r"deep\s?seek", re.IGNORECASE)


# -- the shipped knowledge -------------------------------------------------------------------


@functools.cache
def shipped() -> KnowledgeBase:
    """The shipped knowledge, read once: every synthetic base starts from it."""
    return load_knowledge(SHIPPED)


@functools.cache
def _is_content(word: str) -> bool:
    return bool(matching.tokens(word))


@functools.cache
def _vocabulary() -> tuple[tuple[str, ...], tuple[str, ...], tuple[float, ...]]:
    """Real content words of the shipped file, the pseudo-word pool, and its Zipf weights."""
    kb = shipped()
    texts: list[str] = []
    for entry in kb.entries:
        texts.extend(q for _, q in entry.questions.all())
        texts.extend(entry.answer.get(lang) for lang in LANGS)
        texts.extend(entry.keywords)
    off_topic = {t for word in kb.off_topic for t in matching.tokens(word)}
    real: dict[str, None] = {}
    for text in texts:
        for word in _WORD.findall(text):
            toks = matching.tokens(word)
            if toks and not off_topic.intersection(toks):
                real[word.lower()] = None
    taken = {t for word in real for t in matching.tokens(word)} | off_topic
    pool = tuple(_pseudo_words(POOL_SIZE, taken))
    weights = [1.0 / (rank + ZIPF_Q) ** ZIPF_S for rank in range(1, len(pool) + 1)]
    return tuple(real), pool, tuple(accumulate(weights))


def _parts(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ONSETS = _parts("b c d f g k l m n p r s t v z b d l m n p r s t ch tr pl gr br st")
_VOWELS = _parts("a e i o u a e i o u é ou ai an on in")
_CODAS = ["", "", "", "", "", "n", "r", "s", "l", "x"]


def _pseudo_words(count: int, taken: set[str]) -> Iterator[str]:
    """Pronounceable made-up words that stem to one new token each (no stop word, no clash)."""
    rng = random.Random(f"{SEED}:pool")
    seen: set[str] = set()
    made = 0
    while made < count:
        syllables = rng.choice((2, 2, 2, 3, 3))
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        toks = matching.tokens(word)
        if len(toks) != 1 or toks[0] in taken or toks[0] in seen:
            continue
        seen.add(toks[0])
        made += 1
        yield word


# -- mutation --------------------------------------------------------------------------------


_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Variants folded at least as much as the loader folds them when it looks for duplicates.

    Coarser is safe (two variants it merges are kept apart anyway), and ASCII is fast.
    """
    ascii_text = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore")
    return _NOT_ASCII_WORD.sub(" ", ascii_text.decode()).strip()


@dataclass
class _Mutator:
    """The random choices for one synthetic entry."""

    rng: random.Random
    subject: str
    second: str

    def pool_word(self) -> str:
        real, pool, cum = _vocabulary()
        if self.rng.random() < REAL_SHARE:
            return self.rng.choice(real)
        return self.rng.choices(pool, cum_weights=cum)[0]

    def substitute(self, text: str, share: float) -> str:
        """Replace about `share` of the content words; the subject takes DeepSeek's place."""
        text = _DEEPSEEK.sub(self.subject, text)

        def swap(match: re.Match[str]) -> str:
            word = match.group()
            if word == self.subject or not _is_content(word) or self.rng.random() >= share:
                return word
            return self.pool_word()

        return _WORD.sub(swap, text)

    def with_subject(self, text: str) -> str:
        """Most questions name what they are about; insert a subject word where none is."""
        words = text.split()
        if self.subject in words or self.second in words or self.rng.random() < 0.3:
            return text
        where = self.rng.randrange(len(words) + 1)
        words.insert(where, self.rng.choice((self.subject, self.second)))
        return " ".join(words)


@functools.cache
def _all_variants(lang: Lang) -> tuple[str, ...]:
    return tuple(q for e in shipped().entries for q in getattr(e.questions, lang))


def _entry(k: int, used: set[str]) -> dict[str, Any]:
    """Synthetic entry number k (k >= number of shipped entries), as schema data."""
    kb = shipped()
    _, pool, cum = _vocabulary()
    rng = random.Random(f"{SEED}:entry:{k}")
    template = kb.entries[rng.randrange(len(kb.entries))]
    subject, second = (w.capitalize() for w in rng.choices(pool, cum_weights=cum, k=2))
    mut = _Mutator(rng, subject, second)
    questions: dict[Lang, list[str]] = {}
    for lang in LANGS:
        mine: list[str] = list(getattr(template.questions, lang))
        others = _all_variants(lang)
        out: list[str] = []
        while len(out) < VARIANTS_PER_LANG:
            base = rng.choice(mine)
            if rng.random() < RECOMBINE:
                head, tail = base.split(), rng.choice(others).split()
                base = " ".join(head[: max(1, len(head) // 2)] + tail[len(tail) // 2 :])
            variant = mut.with_subject(mut.substitute(base, SUBSTITUTE))
            for _ in range(8):
                if _fold(variant) not in used:
                    break
                variant = mut.with_subject(mut.substitute(variant, 0.5))
            else:
                variant = f"{variant} {mut.pool_word()} {k}"
            used.add(_fold(variant))
            out.append(variant)
        questions[lang] = out
    keywords = rng.sample(template.keywords, min(KEYWORDS - 2, len(template.keywords)))
    return {
        "id": f"{template.id[:28]}_s{k:06d}",
        "topic": {
            lang: f"{subject} : {mut.substitute(template.topic.get(lang), 0.3)}" for lang in LANGS
        },
        "questions": questions,
        "keywords": [mut.substitute(w, 0.3) for w in keywords] + [subject, second],
        "answer": {lang: mut.substitute(template.answer.get(lang), 0.25) for lang in LANGS},
        "figures": [f.model_dump() for f in template.figures],
        "source": template.source.model_dump(),
        "related": list(template.related),
    }


_generated: list[dict[str, Any]] = []
_used: set[str] = set()


def _synthetic_entries(count: int) -> list[dict[str, Any]]:
    """The first `count` synthetic entries; generated once per process and extended on demand."""
    kb = shipped()
    if not _used:
        _used.update(_fold(q) for e in kb.entries for _, q in e.questions.all())
    first = len(kb.entries)
    while len(_generated) < count:
        _generated.append(_entry(first + len(_generated), _used))
    return _generated[:count]


@functools.cache
def _fingerprint() -> str:
    """Changes whenever the shipped knowledge or this generator does: stale files are ignored."""
    digest = hashlib.sha256(SHIPPED.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:10]


def knowledge_file(size: int, directory: Path = OUT) -> Path:
    """The synthetic base as a knowledge file (JSON text, which is YAML), written once.

    Used as a cache by `knowledge_data`, and by the bot benchmark, whose bot loads it as it
    would load any knowledge file (`python -m bot validate` accepts it).
    """
    path = directory / f"synthetic-{size}-{SEED}-{_fingerprint()}.yaml"
    if not path.exists():
        data = _generate(size)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob(f"synthetic-{size}-*.yaml"):
            stale.unlink()  # another seed or generator version
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")
        tmp.replace(path)
    return path


def _generate(size: int) -> dict[str, Any]:
    kb = shipped()
    data = kb.model_dump(by_alias=True, mode="json")
    data["entries"].extend(_synthetic_entries(size - len(kb.entries)))
    return data


def knowledge_data(size: int) -> dict[str, Any]:
    """The schema data of a synthetic base: the shipped entries, then synthetic ones."""
    data: dict[str, Any] = json.loads(knowledge_file(size).read_text("utf-8"))
    return data


def synthetic_kb(size: int) -> KnowledgeBase:
    """A validated synthetic knowledge base of `size` entries, built in memory."""
    kb = KnowledgeBase.model_validate(knowledge_data(size))
    kb._version = f"synthetic-{size}-{SEED}"
    return kb


# -- questions -------------------------------------------------------------------------------

Kind = Literal["in_scope", "typo", "synthetic", "out_of_scope"]


@dataclass(frozen=True)
class Question:
    """A benchmark question; `expect` is the entry that answers it (None: nothing should)."""

    text: str
    kind: Kind
    expect: str | None


_KEYBOARD = "azertyuiopqsdfghjklmwxcvbn"

UNRELATED = (
    "quelle est la recette de la tarte tatin",
    "quel temps fera-t-il demain à Paris ?",
    "qui a gagné la coupe du monde de football 2018",
    "comment réparer une fuite d'eau sous l'évier",
    "c'est quoi le meilleur film de l'année",
    "horaires du train pour Lyon ce soir",
    "comment faire une pâte à crêpes",
    "combien de calories dans une banane",
    "comment dit-on bonjour en japonais",
    "à quelle heure ouvre la piscine municipale",
    "des conseils pour mieux dormir ?",
    "prix d'un billet d'avion pour New York",
    "comment changer un pneu crevé",
    "quelle est la capitale de l'Australie",
    "résultats du loto de samedi",
    "what's the weather like in London tomorrow",
    "best pizza dough recipe",
    "who won the super bowl last year",
    "how do I reset my wifi router",
    "recommend me a good sci-fi novel",
    "how tall is the eiffel tower",
    "cheap flights to tokyo in april",
    "how many calories are in an apple",
    "what time is it in Sydney right now",
    "how to learn guitar fast",
    "what are the symptoms of the flu",
    "convert 10 miles to kilometers",
    "best running shoes for flat feet",
    "how do you bake sourdough bread",
    "who painted the mona lisa",
)
NEAR_MISS = (
    "qui a fondé deepseek ?",
    "quel âge a le patron de DeepSeek",
    "où se trouve le siège de deepseek",
    "deepseek est-il open source ?",
    "combien d'utilisateurs a deepseek",
    "quelle est la valorisation de deepseek",
    "deepseek et la confidentialité des données personnelles",
    "deepseek utilise des puces nvidia ?",
    "who founded DeepSeek?",
    "deepseek ceo name",
    "is deepseek safe to install on my phone",
    "deepseek headquarters city",
    "does deepseek censor its answers",
    "what is deepseek's valuation",
    "how many parameters does deepseek v3 have",
    "deepseek vs claude benchmark results",
)


def _typo(word: str, rng: random.Random) -> str:
    """One slip of the finger: a letter dropped, doubled, swapped with the next, or mistyped."""
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1 :]
    if op == 1:
        return word[:i] + word[i] + word[i:]
    if op == 2:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word[:i] + rng.choice(_KEYBOARD) + word[i + 1 :]


def _with_typos(text: str, rng: random.Random, count: int) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    for i in rng.sample(long, min(count, len(long))):
        words[i] = _typo(words[i], rng)
    return " ".join(words)


def _casual(text: str, rng: random.Random) -> str:
    """How people retype a question: lower case, often no accents, a word dropped or swapped."""
    if rng.random() < 0.7:
        text = text.lower()
    if rng.random() < 0.5:
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    words = text.split()
    if len(words) > 3 and rng.random() < 0.3:
        del words[rng.randrange(1, len(words))]
    if len(words) > 3 and rng.random() < 0.2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _gibberish(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join(
        "".join(rng.choice(letters) for _ in range(rng.randint(5, 9)))
        for _ in range(rng.randint(2, 4))
    )


@functools.cache
def questions() -> tuple[Question, ...]:
    """The fixed question set: 120 in-scope, 120 with typos, 60 about synthetic entries
    (out of scope for the shipped base), 96 out of scope (unrelated, near misses, gibberish,
    unrelated with typos). Shuffled once, with the seed."""
    rng = random.Random(f"{SEED}:questions")
    kb = shipped()
    out: list[Question] = []
    for entry in kb.entries:
        variants = [q for _, q in entry.questions.all()]
        for q in rng.sample(variants, 8):
            out.append(Question(_casual(q, rng), "in_scope", entry.id))
        for q in rng.sample(variants, 8):
            out.append(Question(_with_typos(_casual(q, rng), rng, 2), "typo", entry.id))
    synthetic = knowledge_data(1_000)["entries"][len(kb.entries) :]
    for entry_data in rng.sample(synthetic, 60):
        lang: Lang = rng.choice(LANGS)
        q = rng.choice(entry_data["questions"][lang])
        text = _casual(q, rng) if rng.random() < 0.5 else _with_typos(q, rng, 1)
        out.append(Question(text, "synthetic", entry_data["id"]))
    out.extend(Question(q, "out_of_scope", None) for q in UNRELATED + NEAR_MISS)
    out.extend(Question(_gibberish(rng), "out_of_scope", None) for _ in range(20))
    out.extend(
        Question(_with_typos(q, rng, 2), "out_of_scope", None) for q in rng.sample(UNRELATED, 30)
    )
    rng.shuffle(out)
    return tuple(out)


def variant_strings(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """Every raw question variant and the id of its entry: what a plain fuzzy matcher sees."""
    texts: list[str] = []
    owners: list[str] = []
    for entry in kb.entries:
        for _, q in entry.questions.all():
            texts.append(q)
            owners.append(entry.id)
    return texts, owners


def _main() -> None:
    """`python -m bench.synthetic`: a look at what the generator makes."""
    kb = synthetic_kb(1_000)
    for entry in kb.entries[15:18]:
        print(entry.id, "|", entry.topic.fr)
        for _, variant in entry.questions.all():
            print("   ", variant)
        print("  answer:", entry.answer.en[:160])
        print("  keywords:", entry.keywords)
    kinds: dict[str, int] = {}
    for q in questions():
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    print(kinds)
    for q in questions()[:15]:
        print(f"  [{q.kind}] {q.text}")


if __name__ == "__main__":
    _main()
