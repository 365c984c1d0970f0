"""Small talk is recognised as such, and a question that only sounds like it is not."""

from __future__ import annotations

import pytest

from bot import chitchat


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("bonjour", "greeting"),
        ("Salut !", "greeting"),
        ("hello there", "greeting"),
        ("merci beaucoup !", "thanks"),
        ("thanks a lot", "thanks"),
        ("au revoir", "bye"),
        ("ça va ?", "how_are_you"),
        ("who are you?", "who_are_you"),
        ("t'es qui ?", "who_are_you"),
        ("ok", "ack"),
    ],
)
def test_small_talk(text: str, kind: str) -> None:
    assert chitchat.classify(text) == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("yo, t'es toujours là ? 👀", "greeting"),
        ("anybody around??", "greeting"),
        ("u still up?", "greeting"),
        ("quoi de neuf", "how_are_you"),  # "neuf" is also the number nine
        ("slt cv", "how_are_you"),
        ("tu t'appelles comment ?", "who_are_you"),
        ("who am i speaking to", "who_are_you"),
        ("à quoi tu pourrais me servir", "who_are_you"),
        ("thanks a ton 🙏", "thanks"),
        ("je vous remercie pour votre aide", "thanks"),
        ("you're awesome", "thanks"),
        ("no worries", "ack"),
        ("pas de soucis", "ack"),
        ("hahaha ok", "ack"),
        ("ttyl", "bye"),
        ("à la prochaine !", "bye"),
        ("is this a bot or a human?", "who_are_you"),
        ("t'es une IA ou quoi", "who_are_you"),
        ("which subjects do you cover", "who_are_you"),
        ("comment ça se passe ?", "how_are_you"),
        ("j'espère que vous allez bien", "how_are_you"),
        ("what should I call you?", "who_are_you"),
        ("tu fais quoi dans la vie ?", "who_are_you"),
        ("suis-je en train de parler avec une IA ?", "who_are_you"),  # not the AI landscape
        ("tu sers à rien", "complaint"),
        ("t'es programmé par qui ?", "who_are_you"),
        ("do you have feelings?", "who_are_you"),
        ("knock knock", "greeting"),  # not the App Store's top spot
        ("on t'a donné un prénom ?", "who_are_you"),  # "donné" is no typo of "done"
        ("tu comprends l'anglais ?", "who_are_you"),
        ("am I chatting with an actual human being?", "who_are_you"),
        ("ah d'acc je vois", "ack"),
        ("got a nickname I can use?", "who_are_you"),
        ("is a human being typing this or a program?", "who_are_you"),
        ("je m'ennuie, parle-moi un peu", "who_are_you"),
        ("t'es humain ou t'es une IA ?", "who_are_you"),
        ("c'est une vraie personne qui me répond ?", "who_are_you"),
        ("what do people call you", "who_are_you"),  # not Trump calling it a wake-up call
        ("on t'a baptisé comment ?", "who_are_you"),
        ("r u some kind of software", "who_are_you"),
        ("hey, am i chatting with software?", "who_are_you"),  # not the article's gist
        ("t'es en chair et en os ?", "who_are_you"),
        ("il y a un humain derrière l'écran ?", "who_are_you"),
    ],
)
def test_informal_small_talk(text: str, kind: str) -> None:
    assert chitchat.classify(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "bonjour, combien coûte R1 ?",
        "thanks, and what did Trump say?",
        "deepseek",
        "",
        "un bon film à voir ce soir ?",  # "film" is no typo of "file" (je file: I'm off)
        "mon chat vomit, que faire",  # nor "vomit" of "voit"
    ],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert chitchat.classify(text) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("bonjoru", "greeting"),
        ("thnks !!", "thanks"),
        ("byee", "bye"),
        ("how r u", "how_are_you"),
        ("👍", "ack"),
        ("🙏🙏", "thanks"),
        ("👋", "greeting"),
    ],
)
def test_small_talk_with_a_typo_or_emoji_only(text: str, kind: str) -> None:
    assert chitchat.classify(text) == kind


@pytest.mark.parametrize("text", ["cout ?", "coût réel", "code", "data", "?", "ban"])
def test_a_word_one_letter_from_small_talk_is_not_small_talk(text: str) -> None:
    assert chitchat.classify(text) is None


def test_a_word_the_knowledge_uses_is_not_read_as_small_talk_typed_wrong() -> None:
    assert chitchat.classify("adiso") == "bye"  # "adios", one letter off
    assert chitchat.classify("axios") == "bye"
    assert chitchat.classify("axios", known=frozenset({"axios"})) is None
