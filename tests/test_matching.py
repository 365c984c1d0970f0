"""Normalization, language, small talk and typo-tolerant lookup: the pure building blocks."""

from __future__ import annotations

import pytest

from bot import matching
from bot.answers import Engine


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Combien a coûté l'entraînement de GPT-4 ?", ["cout", "entrain", "gpt4"]),
        ("COMBIEN A COUTE L’ENTRAINEMENT DE GPT 4", ["cout", "entrain", "gpt4"]),
        ("c'est quoi 64,1 milliards ?", ["64.1", "billion"]),
        ("what is 64.1 billion", ["64.1", "billion"]),
        ("2,2 $ par million de jetons", ["2.2", "million", "jeton"]),
        ("$2.20 per 1M tokens", ["2.2", "1", "million", "token"]),
        ("75 % / 75%", ["75", "percent"]),
        ("« Réveil » pour les industries", ["reveil", "industri"]),
    ],
)
def test_tokens_fold_case_accents_quotes_numbers_and_stop_words(
    text: str, expected: list[str]
) -> None:
    assert list(dict.fromkeys(matching.tokens(text))) == expected


def test_tokens_never_fail_on_odd_input() -> None:
    for text in [
        "",
        "?",
        "🙂🙂",
        "\u202e\u05e9\u05dc\u05d5\u05dd",
        "\x00\x07",
        "ÆØÅ œuvre",
        "1,2,3,,4",
    ]:
        assert matching.tokens(matching.normalize(text)) == matching.tokens(text)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Combien a coûté GPT-4 ?", "fr"),
        ("combien ca a coute gpt4", "fr"),
        ("How much did GPT-4 cost?", "en"),
        ("what did trump say", "en"),
        ("pourquoi les us flippent", "fr"),
        ("why are americans worried", "en"),
        # Phrases read in context ("who founded" is a founder, "good morning" one greeting)
        # are still the writer's words for the language.
        ("Who founded DeepSeek?", "en"),
        ("good morning", "en"),
        ("how many people use deepseek daily", "en"),
        # Keywords only: one word of one language is the evidence.
        ("r1 weekly active users", "en"),
        ("nvidia equities slump", "en"),
        ("krach wall street deepseek", "fr"),
        ("top appstore gratuit", "fr"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    assert matching.detect_language(text) == lang


def test_language_unknown_without_evidence() -> None:
    assert matching.detect_language("DeepSeek R1 ?") is None


def test_word_languages_come_from_every_text_of_the_index(engine: Engine) -> None:
    # A word French questions borrow now and then still says English when English uses it most.
    assert matching.detect_language("ranking", engine.index.lexicon) == "en"


def test_typos_resolve_to_known_words_but_short_words_need_a_close_spelling(engine: Engine) -> None:
    index = engine.index
    hit = matching.resolve("milion", index)
    assert hit is not None and hit[0] == "million" and 0.9 < hit[1] < 1
    hit = matching.resolve("trian", index)
    assert hit is not None and hit[0] == index.canonical["train"]
    tiny = matching.build_index([matching.Document("x", "la valeur des actions")])
    assert matching.resolve("valu", tiny) is None
    hit = matching.resolve("valleur", tiny)
    assert hit is not None and hit[0] == "valeur" and 0.9 < hit[1] < 1


def test_a_misspelt_ending_resolves_to_the_known_word_before_it(engine: Engine) -> None:
    index = engine.index
    for typo in ("entrainemnt", "trainnig"):
        hit = matching.resolve(typo, index)
        assert hit is not None and hit[0] == index.canonical["entrain"], typo
    # A known word followed by letters that are no misspelt suffix is not that word.
    tiny = matching.build_index([matching.Document("x", "la classe des actions")])
    assert matching.resolve("classiqu", tiny) is None


def test_conversational_fillers_carry_no_topic() -> None:
    assert matching.tokens("honestly, I keep seeing the big deal about R1 pricing") == [
        "r1",
        "pric",
    ]
    assert matching.tokens("Bonjour, je comprends pas trop le prix de R1") == ["pri", "r1"]


def test_rare_words_weigh_more_than_common_ones(engine: Engine) -> None:
    idf = engine.index.idf
    canonical = engine.index.canonical

    def weight(word: str) -> float:
        (token,) = matching.tokens(word)
        return idf[canonical[token]]

    for rare in ["Llama", "Axios", "Trump", "o1"]:
        assert weight(rare) > 2 * weight("DeepSeek")


def test_index_is_built_once_and_search_is_pure(engine: Engine) -> None:
    first = matching.search("prix de r1", engine.index)
    assert matching.search("prix de r1", engine.index) == first
    assert first[0].key == "r1_pricing"


def test_synonyms_and_off_topic_words_shape_the_index() -> None:
    docs = [
        matching.Document("worry", "why are they worried", "en"),
        matching.Document("money", "how much did it cost", "en"),
    ]
    plain = matching.build_index(docs)
    assert matching.search("why the panic", plain) == []
    index = matching.build_index(docs, synonyms=matching.synonym_map([["worried", "panic"]]))
    assert matching.search("why the panic", index)[0].key == "worry"
    guarded = matching.build_index(docs, off_topic=["founder"])
    best = matching.search("how much did the founder cost", guarded)[0]
    assert best.key == "money" and best.coverage < 0.6


def test_a_word_only_close_to_an_off_topic_word_is_not_off_topic(engine: Engine) -> None:
    index = engine.index
    assert matching.resolve(matching.tokens("founder")[0], index) == (matching.OFF_TOPIC, 1.0)
    near = matching.resolve("footag", index)  # near "foot", which the article never covers
    assert near is not None and near[0] == matching.OFF_TOPIC and near[1] < 1.0
    plain = matching.search("did the footage show the president's wake-up call", index)
    assert plain and plain[0].key == "trump_wake_up_call" and plain[0].coverage > 0.5


def test_fillers_of_rambling_questions_are_not_content() -> None:
    assert matching.tokens("I have zero clue, people keep looking at me, I wonder") == []
    assert matching.tokens("je me demande ce que les gens disent cette semaine") == []


def test_compounds_are_one_word_and_vague_amounts_are_no_figure() -> None:
    assert matching.tokens("cette start-up") == matching.tokens("cette startup")
    assert matching.tokens("a wake up call") == matching.tokens("a wake-up call")
    assert matching.tokens("people keep bringing it up") == []
    assert matching.tokens("tens of millions") == ["million"]
    assert matching.tokens("des centaines de milliards") == ["billion"]


def test_an_off_topic_word_weighs_less_in_a_long_question(engine: Engine) -> None:
    short = matching.search("install deepseek app store", engine.index)
    long = matching.search(
        "my aunt wanted to install it after reading that the chinese app from deepseek "
        "climbed to the top of the american app store ranking",
        engine.index,
    )
    assert short[0].coverage < 0.3
    assert long[0].key == "app_store_ranking" and long[0].coverage > 0.4


def test_think_tank_is_one_word_so_shares_can_tank(engine: Engine) -> None:
    assert matching.tokens("a think-tank") == matching.tokens("think tanks") == ["thinktank"]
    fell = matching.search("did us tech shares tank", engine.index)
    assert fell[0].key == "tech_stocks_fall"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how much has the US put into AI", ["usa", "put", "ia"]),
        ("investment in the us", ["investm", "usa"]),
        ("explain it to us", []),
        ("j'ai lu que", []),
        ("je l'ai vu", []),
        ("ai industry", ["ia", "industry"]),
        ("what did the EU say", ["ue"]),
        ("j'ai eu peur", ["peur"]),
        ("eu ai spending", ["ue", "ia", "spend"]),
        ("us vs china", ["usa", "china"]),
        ("la chine contre us", ["chin", "contr", "usa"]),
    ],
)
def test_us_and_ai_are_content_only_when_they_name_a_country_or_ai(
    text: str, expected: list[str]
) -> None:
    assert matching.tokens(text) == expected


def test_a_word_only_one_variant_uses_is_weaker_evidence_than_a_shared_one() -> None:
    """One writer's turn of phrase ("the best ones") must not alone pull an unrelated question
    ("best pizza recipe") to its entry as strongly as a word the entry's variants agree on."""
    docs = [
        matching.Document("gap", "is china catching up with the best"),
        matching.Document("gap", "china ai gap"),
        matching.Document("ban", "is deepseek banned in congress"),
    ]
    lone = matching.build_index(docs)
    shared = matching.build_index([*docs, matching.Document("gap", "the best ai in china")])
    question = "best pizza recipe"
    once = matching.search(question, lone)[0]
    twice = matching.search(question, shared)[0]
    assert once.key == twice.key == "gap"
    assert once.coverage < twice.coverage
    # Leave-one-out (the lint) sees the entry as if the second "best" had never been written.
    added = len(shared.variants) - 1
    assert matching.search(question, shared, exclude_variant=added)[0].coverage == once.coverage


def test_a_filler_typed_wrong_is_ignored_not_taken_for_the_subject(engine: Engine) -> None:
    assert engine.ask("wat is deepseek exacly").entry == "deepseek_overview"
    exact = matching.search("what is deepseek exactly", engine.index)[0]
    typo = matching.search("what is deepseek exacly", engine.index)[0]
    assert typo.key == exact.key and typo.coverage == exact.coverage


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("cinq virgule cinq milliards", "5.5"),
        ("five and a half billion", "5.5"),
        ("cinq milliards et demi", "5.5"),
        ("sixty-four point one billion", "64.1"),
        ("soixante-quatre virgule un milliards", "64.1"),
    ],
)
def test_decimals_written_in_words_are_numbers(text: str, number: str) -> None:
    assert number in matching.tokens(text)


def test_phrases_are_read_in_order_as_whole_words_and_near_their_context() -> None:
    phrases = matching.compile_phrases(
        [(["chief executives?"], "boss", []), (["boss"], "dirigeants", ["meta", "facebook"])]
    )
    assert "dirigeants" in matching.words("the chief executive of Meta", phrases)
    assert "boss" in matching.words("the chief executives of DeepSeek", phrases)
    assert matching.words("mischief executive", phrases) == ["mischief", "executive"]
    assert "chief" in matching.tokens("chief executive of Meta")  # no phrases, no reading


def test_french_slang_for_working_is_not_the_off_topic_boss() -> None:
    assert "boss" not in matching.tokens("je bosse dans une banque, et deepseek ?")
    assert "boss" in matching.tokens("qui est le boss de deepseek ?")


def test_one_after_a_word_point_stays_a_word() -> None:
    assert "1" not in matching.tokens("the point one should note")


def test_who_is_asking_is_told_apart_from_what_is_asked() -> None:
    asker = matching.about_the_asker(
        "Je suis pharmacienne à Lyon et mes collègues ne parlent que de DeepSeek à la pause, "
        "combien a coûté son entraînement ?"
    )
    assert {"pharmacienn", "lyon", "collegu"} <= asker
    assert not asker & {"deepseek", "cout", "entrain"}
    # Nobody is introduced; a word said again outside the introduction is asked about.
    assert matching.about_the_asker("how old is deepseek as a company") == frozenset()
    assert "meta" not in matching.about_the_asker("As a Meta engineer I wonder what Meta spent")
    # A short question about a relative is about that relative.
    assert matching.about_the_asker("une idée de cadeau pour ma mère") == frozenset()
    # Where the writer, or a relative in a long message, works.
    assert {"hospital"} <= matching.about_the_asker("I work at a hospital, what did Trump say?")
    long = matching.about_the_asker(
        "My uncle works in shipbuilding and keeps asking me how cheap DeepSeek's training was "
        "compared with what OpenAI spent on GPT-4"
    )
    assert {"uncl", "shipbuild"} <= long and not long & {"cheap", "openai"}


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("When was DeepSeek created?", True),
        ("DeepSeek existe depuis quand ?", True),
        ("deepseek créé en quelle année", True),
        ("how did the markets react when deepseek blew up", False),
        ("quand tu dis R1, c'est quoi ?", False),
    ],
)
def test_a_question_asks_when_only_with_a_question_word_not_a_conjunction(
    text: str, asks: bool
) -> None:
    assert matching.asks_time(text) is asks
