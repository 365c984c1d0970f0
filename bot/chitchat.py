"""Small talk: greetings, thanks, goodbyes, "who are you?". Pure functions, no I/O.

They are recognised before any fact is looked up, so that "what's up" never gets the wake-up
call and "es-tu une IA ?" never gets the AI landscape. `classify` says whether a whole message
is small talk; `marker` finds a small-talk phrase inside a longer one and leaves the engine to
judge the words around it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

from rapidfuzz import distance, process

from bot.matching import STOP_WORDS, fold, stem, tokens, words


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


Kind = Literal["greeting", "thanks", "bye", "how_are_you", "who_are_you", "ack", "complaint"]

# Folded surface words that mark each kind of small talk.
_SMALLTALK: dict[Kind, frozenset[str]] = {
    "greeting": _wordset(
        "bonjour salut coucou hello hi hey hiya hallo hola yo bonsoir slt cc bjr morning "
        "evening allo wesh greetings howdy hii hiii heyy heya helo hellooo bonjoir sup wassup "
        "whatsup salam gm buddy pote again re revoila revoici back retour sir madam madame "
        "monsieur home awake reveille reveillee dispo online salutations dude bro"
    ),
    "thanks": _wordset(
        "merci merki cimer thanks thank thx thks tks ty tx tnx thanx thanku tysm cheers nice "
        "cool top super parfait genial great awesome excellent bravo perfect appreciate "
        "appreciated gracias danke grazie helpful utile nickel impeccable sympa rock rocks mate "
        "remercie remercier remercions infiniment mille bunch ton tons obliged pleasure"
    ),
    "bye": _wordset(
        "bye byebye revoir ciao tchao goodbye later cya bientot nuit night goodnight gn adieu "
        "adios journee soiree farewell care peace ttyl tard prochaine toute voit plus catch"
    ),
    "how_are_you": _wordset("va vas going doing roule gaze cv"),
    "who_are_you": _wordset(
        "bot robot sers sert serve help aide aider capable utile useful person personne human "
        "humain real vrai talking parle faire sais tell dire poser ask questions question "
        "assistant machine programme program work marches fonctionnes know connais servir "
        "servez able capable capables purpose chatting chat speaking talk topic topics sujet "
        "sujets subject subjects cover covers couvres theme themes"
    ),
    "ack": _wordset(
        "ok okay oki accord daccord dac dacc acc ah oh lol mdr ouais yes oui non no got understood "
        "noted compris note entendu vu sure alright fine np probleme problem welcome rien "
        "sense done fini else autre nothing haha hahaha hehe ahah ahahah mdr ptdr xd wow "
        "interesting interessant serieux seriously nope nan yep yup see vois"
    ),
}
_SMALLTALK_WORDS = frozenset().union(*_SMALLTALK.values()) | _wordset(
    """
    bon bonne good journee day soiree see soon you toi vous es etes are who qui much lot
    beaucoup very so all tout monde everyone guys there fonctionne work works marche allez
    grand big infos info bcp ya u ur re beau neuf up makes make take then alors still
    encore toujours again with avec cote side little petit espere hope hoping ecran screen
    """
)
# Whole messages that are small talk although a word of theirs means something in the article
# ("what's up" is not the wake-up call; "es-tu une IA ?" is not about AI).
_SMALLTALK_PHRASES: tuple[tuple[re.Pattern[str], Kind], ...] = (
    (
        re.compile(
            r"(?:are|r) (?:you|u)(?: an?)?(?: (?:some|a) (?:kind|sort|type) of)? "
            r"(?:ai|ia|bot|robot|chatbot|chatgpt|human|real|person|artificial intelligence|"
            r"program|software|machine)"
            r"|(?:es tu|t es|tu es|etes vous|vous etes)(?: une?)? (?:ia|ai|bot|robot|chatbot|"
            r"chatgpt|humain|vrai|personne|reel|intelligence artificielle)"
            r"|(?:who|what) (?:made|built|created|programmed|trained|designed|wrote) "
            r"(?:you|u|this bot|the bot|this thing)"
            r"|qui (?:t a|vous a|a) (?:cree|creee|fait|programme|concu|entraine|code)"
            r"(?: (?:ce|le) (?:bot|robot))?"
            r"|why (?:were|was) (?:you|u|this bot) (?:made|created|built)"
            r"|(?:how old are (?:you|u)|(?:tu as|t as|as tu|avez vous) quel age|"
            r"quel age (?:as tu|tu as|avez vous))"
        ),
        "who_are_you",
    ),
    (
        re.compile(
            r"(?:what s|whats|wats|wat s) up|sup|wassup|quoi de (?:neuf|9|beau)|ca roule|"
            r"comment (?:ca|ca se|tout) (?:passe|se passe|va)|"
            r"(?:ca|sa) dit quoi|cv|bien ou quoi"
        ),
        "how_are_you",
    ),
    (
        # Who am I talking to, what is your name: about the bot, never the article.
        re.compile(
            r"(?:who|what) am i(?: actually| really)? (?:talking|chatting|speaking)(?: to| with)?"
            r"(?: right now)?|"
            r"(?:who|what) (?:s|is) (?:this|that)|(?:what s|whats|what is) your (?:name|purpose)|"
            r"(?:do )?(?:you|u) have a name|am i (?:talking|chatting|speaking) (?:to|with) "
            r"(?:a |an )?(?:actual |real )?(?:bot|robot|human|person|ai|machine|software|program)"
            r"(?: being)?|"
            r"(?:(?:t es|tu es|es tu|vous etes|etes vous|quelqu un) )?en chair et en os|"
            r"(?:a|avec) qui (?:je parle|est ce que je parle|ai je affaire)|c est qui|"
            r"(?:un|une) (?:humain|personne|vraie personne) derriere|"
            r"(?:a )?(?:human|real person|person) (?:behind|on the other end)|"
            r"comment (?:tu t appelles|vous vous appelez|t appelles tu)|"
            r"(?:tu t appelles|vous vous appelez) comment|c est quoi ton nom|t as un nom|"
            r"quel est ton nom|je parle (?:a|avec) (?:un|une) (?:robot|bot|ia|humain|machine)|"
            r"(?:is this|is it|c est|t es|tu es|es tu|are you|r u)(?: (?:un|une|a|an))?"
            r"(?: (?:real|actual|true|vrai|vraie|veritable))? "
            r"(?:ai|ia|bot|robot|chatbot|humain|human|machine|person|personne)"
            r"(?: (?:typing|writing|here|ici|la|derriere))?"
            r"(?: (?:ou|or)(?: (?:t es|tu es|are you|it s))?(?: (?:un|une|a|an))?"
            r"(?: (?:real|vrai|vraie))? "
            r"(?:ai|ia|bot|robot|chatbot|humain|human|"
            r"machine|person|personne|quoi|what|not|gars|mec|guy|dude))?"
        ),
        "who_are_you",
    ),
    (
        # "Are you there?", "t'es là ?", "anyone home?": checking someone is listening.
        re.compile(
            r"(?:are |r )?(?:you|u) (?:still )?(?:there|here|awake|around|alive|up|online)|"
            r"(?:anyone|anybody|somebody|someone) (?:home|there|here|around|awake)|"
            r"(?:es tu|t es|tu es|etes vous|vous etes)(?: encore| toujours)? "
            r"(?:la|reveille|reveillee|dispo|disponible|en ligne)|"
            r"(?:il )?y a (?:quelqu un|qqn|quelqu 1)(?: la)?|knock knock(?: is this thing on)?|"
            r"is this thing on"
        ),
        "greeting",
    ),
    (
        re.compile(
            r"(?:thanks|thank you|thx|merci)(?: so much)? (?:a|a lot|a million|a bunch|a ton)|"
            r"thanks a (?:million|bunch|ton)|merci (?:mille fois|infiniment|bien)|"
            r"(?:you re|your|you are|ur|u r) (?:the best|great|awesome|amazing|a star)|"
            r"t es (?:le|la) (?:meilleur|meilleure|top)|(?:great|good|nice) (?:job|work|one)|"
            r"well done|bien (?:joue|vu)|(?:je te|je vous) remercie|good bot|bon bot"
        ),
        "thanks",
    ),
    (
        re.compile(
            r"no (?:worries|worry|problem|prob|probs)|pas de (?:souci|soucis|probleme|problemes)|"
            r"(?:i|je) (?:see|vois)|ah bon|c est (?:note|bon|clair)|makes sense"
        ),
        "ack",
    ),
)
_ABOUT_YOU = re.compile(
    r"\b(?:(?:tell me|parle moi|dis moi|dites moi|parlez moi)(?: a bit| a little| more| un peu)?"
    r" (?:about|de|sur) (?:yourself|toi|vous)|presente toi|presentez vous|introduce yourself|"
    r"(?:do you have|have you got|you got|as tu|t as|tu as|avez vous|on t a donne|on vous a donne) "
    r"(?:a|un) (?:name|nom|prenom|nickname|surnom)|"
    r"(?:a )?(?:nickname|surnom)(?: or something)? (?:i can|je peux)|"
    r"am i (?:texting|talking to|chatting with|speaking to|writing to) (?:a |an |some )?"
    r"(?:company|real|actual|automated|human|bot|person|program|machine)|"
    r"parle moi un peu|talk to me|je m ennuie|i m bored|en chair et en os|"
    r"(?:t es|tu es|vous etes) (?:programme|concu|fait|cree)e? pour (?:quoi|faire quoi)|"
    r"(?:tu comprends|vous comprenez|do you understand|can you understand) (?:l )?"
    r"(?:francais|anglais|english|french)|"
    r"(?:what|who) are you exactly|(?:what|who) (?:you are|you re|u r)(?: exactly| really)?$|"
    r"(?:what|who) are (?:you|u)(?: exactly| really| actually| like)*(?: a| an| some)?"
    r"(?: kind of| sort of)? (?:ai|ia|bot|robot|chatbot|assistant|helper|program|human|person)|"
    r"on se (?:tutoie|vouvoie)|(?:je peux|on peut|puis je) (?:te|vous) (?:tutoyer|vouvoyer)|"
    r"(?:whom|who) (?:do|am) i (?:have the pleasure|talking|chatting|texting|speaking)|"
    r"(?:tu parles|vous parlez|parles tu|parlez vous|do you speak|can you speak|you speak) "
    r"(?:francais|anglais|english|french)|"
    r"(?:tu peux|vous pouvez|tu sais|can you) (?:faire|do) quoi(?: pour moi)?|"
    r"what can you do for me|"
    r"(?:is there|is it|is|y a t il|il y a) (?:a |an |un |une )?(?:real )?(?:human|humain|person|"
    r"personne|someone|quelqu un)(?: being)? (?:typing|writing|answering|replying|behind|"
    r"qui (?:ecrit|repond|"
    r"tape)|derriere)|"
    r"(?:t es|tu es|vous etes) (?:quoi|qui)|tu te presentes|vous vous presentez|"
    r"(?:on t a|on vous a|t as ete|tu as ete) (?:cree|creee|fait|concu|programme)e? pour|"
    r"pourquoi (?:on t a|on vous a) (?:cree|fait|concu)|"
    r"(?:who|whom|what) am i (?:talking|chatting|speaking|texting) (?:to|with)|"
    r"(?:texting|talking to|chatting with|speaking to|speaking with|parle a|parle avec|ecris a) "
    r"(?:a real person|a human|a bot|a machine|un humain|une vraie personne|un robot)|"
    r"(?:real person|human|humain|vraie personne) (?:or|ou) (?:some |a |an |un |une )?(?:program|"
    r"programme|bot|robot|machine|ai|ia|software|logiciel)|"
    r"(?:tu es|t es|vous etes|are you) capables?|what can you (?:do|help)|"
    r"(?:quelqu un|qqn|une personne|un humain|someone|a person|a human|an actual human|"
    r"a real human|a real person)(?: qui)? (?:tape|ecrit|redige|types|typing|writes|writing) "
    r"(?:les reponses|tes reponses|vos reponses|the answers|these answers|this|ca)|"
    r"(?:explique|expliquez|dis|dites) moi(?: un peu)? ce que (?:tu es|vous etes)|"
    r"(?:une vraie personne|un humain|un etre humain|quelqu un) qui (?:me )?(?:repond|ecrit)|"
    r"(?:quel|quels) (?:genre|type|sorte)s? de questions|what (?:kind|sort|type)s? of questions|"
    r"what (?:exactly )?am i (?:talking|chatting|speaking|texting) (?:to|with)|"
    r"(?:ecris|ecrit|ecrire|parle|parles|parler|discuter|causer|chatter|chat|repondre|reponds|"
    r"answer|reply|write|speak|talk|type)(?: me| to me| avec (?:toi|vous))? (?:en|in) "
    r"(?:francais|anglais|english|french)|"
    r"(?:ton|votre|tes|vos|your) (?:createur|createurs|creator|creators|concepteur|concepteurs|"
    r"maker|makers|developpeur|developer)|qui t a (?:cree|fait|concu|programme|fabrique)|"
    r"tell me your (?:name|purpose)|(?:are you|r u|es tu|t es)(?: some| a)? (?:kind|sort) of "
    r"(?:ai|bot|robot|ia)|(?:ton|votre) (?:boulot|travail|job) de (?:bot|robot)|"
    r"(?:some |an |a )?(?:intern|stagiaire)(?: qui)? (?:typing|writing|answering|tape|ecrit|"
    r"repond|me repond)|(?:ou|or) (?:un|une|an|a) (?:stagiaire|intern)|"
    r"(?:sur|de) quels? (?:genres? de |types? de |sortes? de )?(?:sujets|themes)|"
    r"(?:which|what)(?: kinds? of| sorts? of| types? of)? (?:topics|subjects)|"
    r"(?:tes|vos|your) (?:capacites|capabilities|abilities|fonctionnalites|features|limites|"
    r"limits)|"
    r"tu sais faire quoi|que sais tu faire|(?:your|tes|vos) (?:skills|"
    r"competences)|what are you good (?:at|for)|any good for|a quoi tu sers|tu sors d ou|"
    r"d ou tu sors|where (?:are you|do you come) from|"
    r"(?:what|how) (?:should|shall|do|can|may) i call (?:you|u)|"
    r"(?:should|shall|do|can) i (?:just )?call (?:you|u)|(?:got|have|you got|u got) a name|"
    r"(?:comment )?(?:on|les gens|ils) (?:t appelle|vous appelle)(?: comment)?|"
    r"(?:t es|tu es|vous etes|t as ete|tu as ete) (?:programme|cree|concu|code|fait)e? par qui|"
    r"(?:t as|tu as|as tu|avez vous|vous avez) des (?:sentiments|emotions)|"
    r"(?:do|can) (?:you|u) (?:have|feel) (?:feelings|emotions)|"
    r"comment (?:je dois|dois je|je peux|puis je|on doit|faut il) (?:t|vous) appeler|"
    r"(?:what|how) (?:do|should|shall|can|may|would) (?:people|we|others) call (?:you|u)|"
    r"(?:tes createurs |tes concepteurs |on )?(?:t ont|t a|vous ont|vous a) "
    r"(?:baptise|appele|nomme)|"
    r"(?:c est|is it|is this|is that) (?:une|a|an) (?:vraie personne|real person|humain|human|"
    r"actual person) (?:qui|who)(?: me)? (?:repond|ecrit|answers|is answering|types|writes)|"
    r"(?:tu fais|vous faites) quoi dans la vie|que (?:fais tu|faites vous) dans la vie|"
    r"(?:suis je|je suis|est ce que je suis) en train de (?:discuter|parler|chatter|causer) avec "
    r"(?:un|une) (?:ia|intelligence artificielle|bot|robot|machine|humain)|"
    r"(?:humain|personne|quelqu un|human|person|someone) (?:derriere|behind) (?:l ecran|le clavier|"
    r"ce bot|the screen|the keyboard|this bot|this)|"
    r"(?:une vraie personne|un humain|un etre humain|a real person|a human|someone real)"
    r"(?: (?:la|here|ici|behind this|derriere|behind))? (?:ou|or) (?:c est |it s |is it |is this )?"
    r"(?:automatique|automated|automatic|a bot|un bot|une machine|a machine|un robot|a robot|"
    r"une ia|an ai))\b"
)
"""Questions about the bot itself, recognised anywhere in a message before any fact is looked
up: "do you have a name I can call you by?" is not about the wake-up call."""
_ARTICLE = _wordset("article articles texte papier piece text story news")
_YOU = _wordset(
    "tu toi te t vous ton ta tes votre vos you your yours u ur yourself bot robot chatbot assistant"
)


_ABOUT_CUES = frozenset(
    tokens(
        "article articles texte papier piece text resume resumer resumes summary summarize "
        "summarise sum gist nutshell sujet sujets topic topics subject story theme themes "
        "covers cover traite main principal principale essentiel mots words bref brief "
        "overview apercu idee quick rapide 2 3 tldr news lire hurry presse point missed "
        "rate phrase phrases sentence sentences une one line lines ligne lignes storyline general "
        "generale"
    )
)
"""Words that ask what the article says as a whole ("le sujet en deux mots", "the gist")."""


def _article_spelt(text: str) -> str:
    """ "artcle", "aritcle": the article typed one letter off, as it is spelt."""
    return " ".join(
        "article" if len(w) >= 6 and distance.OSA.distance(w, "article") <= 1 else w
        for w in words(text)
    )


_GIST_CUES = frozenset(
    tokens(
        "resume resumer summary summarize summarise gist nutshell sujet topic subject story "
        "storyline main essentiel overview apercu tldr general generale"
    )
)
"""Words that alone ask for the article's gist, whatever else is said around them."""


def about_the_article(text: str) -> list[str] | None:
    """Whether a message asks what the article says as a whole, and its words besides.

    `[]`: "De quoi parle l'article ?", "in a nutshell, what's the story this piece covers?":
    the article named, and no word but those asking for its gist. The other words when the
    article and its gist are named ("tldr de l'article, j'ai la flemme de tout lire"): the
    caller decides whether they ask anything. None: the message is about something else."""
    text = _article_spelt(text)
    if not any(w in _ARTICLE for w in words(text)):
        return None
    toks = tokens(text)
    rest = [t for t in toks if t not in _ABOUT_CUES]
    if not rest:
        return []
    return rest if any(t in _GIST_CUES for t in toks) else None


_VOCATIVE = r"(?: (?:bot|toi|vous|mate|guys|man|there|the bot|le bot|right|non|hein))*"
_WHOLE_PHRASES = tuple(
    (
        re.compile(
            r"(?:(?:hi|hey|hello|hiya|salut|slt|cc|bjr|wesh|bonjour|coucou|yo|dis|say|so|alors|"
            r"ok|okay|oh|ah|well|and|et|bon|ben|there|bot|little bot|petit bot|mate|buddy|toi) )*"
            rf"(?:{pattern.pattern}){_VOCATIVE}"
        ),
        kind,
    )
    for pattern, kind in _SMALLTALK_PHRASES
)
"""Each phrase as a whole message, between greetings and a vocative ("hey, what's up bot"),
compiled once at import rather than for every message."""
_THANKS = _wordset(
    "merci merki cimer thanks thank thx thks tks ty tysm thanx thanku remercie obliged pleasure"
)
_BY_PRIORITY: tuple[Kind, ...] = ("who_are_you", "thanks", "bye", "greeting", "ack")
_SMALLTALK_STEMS = frozenset(stem(w) for w in _SMALLTALK_WORDS)
_KIND_STEMS = {kind: frozenset(stem(w) for w in ws) for kind, ws in _SMALLTALK.items()}
_SMALLTALK_LONG = tuple(
    sorted(w for kind, ws in _SMALLTALK.items() if kind != "who_are_you" for w in ws if len(w) >= 4)
)
"""What a misspelt small-talk word may be read as: the words that mark greetings, thanks,
byes and acks, not the fillers nor the who-are-you words a question also uses."""


_EMOJI_TALK: tuple[tuple[str, Kind], ...] = (
    ("\U0001f64f\u2764\U0001f60a\U0001f970\U0001f60d\U0001f917", "thanks"),
    ("\U0001f44b", "greeting"),
)


def _emoji_talk(text: str) -> Kind | None:
    """A message of emoji only ("👍", "🙏"): a reaction, never a question."""
    marks = [c for c in text if not c.isspace() and c not in "?!.,"]
    if not marks or any(unicodedata.category(c) not in ("So", "Sk", "Mn", "Cf") for c in marks):
        return None
    for chars, kind in _EMOJI_TALK:
        if any(c in chars for c in marks):
            return kind
    return "ack"


@lru_cache(maxsize=1 << 12)
def _small_talk_spelling(word: str, known: frozenset[str]) -> str:
    """A small-talk word typed one letter off ("bonjoru", "thnks", "salu") as it is spelt;
    other words unchanged. Words of four letters and more, first letter right, never a stop
    word nor a word of the knowledge (`known`): "cout" must stay the cost, not become "tout",
    "axios" the news site, not "adios". A short word is only read as a longer one: "film" is
    not "file", nor "vomit" "voit"."""
    if (
        len(word) < 4
        or word in _SMALLTALK_WORDS
        or word in STOP_WORDS
        or word in known
        or word[0].isdigit()
    ):
        return word
    # Four letters: only a letter left out ("salu"); five: no letter added ("donne" is not
    # "done"); longer words may be any one letter off ("mercii").
    shortest = {4: 5, 5: 5}.get(len(word), 0)
    pool = [w for w in _SMALLTALK_LONG if len(w) >= shortest]
    hit = process.extractOne(word, pool, scorer=distance.OSA.distance, score_cutoff=1)
    return hit[0] if hit is not None and hit[0][0] == word[0] else word


def classify(text: str, known: frozenset[str] = frozenset()) -> Kind | None:
    """Greetings, thanks and the like: they get a friendly word, never a fact.

    Small talk is a message whose every content word is a small-talk word; "bonjour, combien
    coûte R1 ?" is a question. A question about the bot is small talk wherever it is asked.
    `known`: the knowledge's own words, never read as small talk typed wrong.
    """
    found = [_small_talk_spelling(w, known) for w in words(text)]
    if not found:
        return _emoji_talk(text)
    if _ABOUT_YOU.search(" ".join(found)):
        return "who_are_you"
    if len(found) > 12:
        return None
    joined = " ".join(found)
    if (said := _COMPLAINT_PHRASE.search(joined)) and all(
        t in _SMALLTALK_STEMS for t in tokens(f"{joined[: said.start()]} {joined[said.end() :]}")
    ):
        return "complaint"  # "ça m'aide pas": "aide" is no request for help here
    for pattern, kind in _WHOLE_PHRASES:
        if pattern.fullmatch(joined):
            return kind
    if any(t not in _SMALLTALK_STEMS for t in tokens(joined)):
        return None
    if any(w in _THANKS for w in found):
        return "thanks"  # "merci pour ton aide" thanks for the help, asks for none
    if any(w in _ARTICLE for w in found):
        return None  # "de quoi parle l'article ?" asks about the article, not about us
    if re.search(
        r"\b(?:ca va|comment vas|comment allez|how are|how r (?:u|you)|how s it|how is it|"
        r"(?:how s|how is|hope) (?:your|ur) (?:day|week|evening|morning|afternoon)|"
        r"quoi de neuf|tu vas bien|vous allez bien|(?:you re|you are) (?:doing )?well)\b",
        joined,
    ):
        return "how_are_you"
    if re.search(
        r"\b(?:qui es|t es qui|tes qui|qui etes|who are|what are you|are you|es tu|tu es|"
        r"what can you|what do you do|tu sers|sers a|tu fais quoi|que fais tu|help|aide)\b",
        joined,
    ):
        return "who_are_you"
    for kind in _BY_PRIORITY:  # a word as typed first: "sup" greets, whatever "super" stems to
        if any(w in _SMALLTALK[kind] for w in found):
            return kind
    for kind in _BY_PRIORITY:
        if any(stem(w) in _KIND_STEMS[kind] for w in found):
            return kind
    # Only question words and fillers ("qu'est-ce que tu sais faire ?", "what?"): say what we do.
    return "who_are_you"


_ASKING = _wordset(
    "quoi koi qui quel quelle quels quelles comment pourquoi pk pq combien cb ou quand "
    "what wat wats whats wut who whom whose how why when where which"
)
_MARKERS: dict[Kind, frozenset[str]] = {
    "thanks": _wordset(
        "merci mercis merki cimer thanks thank thx thks tks ty tx tnx thanx thanku tysm cheers "
        "bravo remercie gracias danke grazie appreciate appreciated obliged pleasure neat "
        "fantastic amazing awesome brilliant chouette"
    ),
    "bye": _wordset(
        "bye byebye revoir revoyure ciao tchao goodbye cya adieu adios farewell ttyl goodnight gn "
        "bisous bises"
    ),
    "ack": _wordset("haha hahaha hihi hehe lol mdr ptdr lmao rofl"),
    "greeting": _wordset(
        "bonjour salut coucou hello hi hey hiya hallo hola yo bonsoir slt cc bjr wesh howdy heya "
        "helo hii hiii heyy salam gm morning goodmorning goodevening goodday goodafternoon "
        "salutations greetings sup wassup whatsup"
    ),
}
"""Words that make a message small talk whatever else it says, as long as it asks nothing."""
_GREETING_PHRASE = re.compile(
    r"\b(?:rise and shine|top o the (?:day|morning)|g day|"
    r"(?:nice|pleased|glad) to (?:e )?meet (?:you|u|ya|y all)|"
    r"(?:hello|hi|hey|bonjour|salut|coucou|greetings|goodmorning|goodevening|goodafternoon|"
    r"goodday|bonsoir) (?:from|de|depuis) \w+(?: \w+)?$|"
    r"glad i found (?:this|you)|content d (?:etre|avoir trouve)|"
    r"happy (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|new year|holidays)|"
    r"(?:bon|joyeux) (?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)|"
    r"enchantee?|(?:ravie?|content|contente) de (?:te|vous) (?:rencontrer|connaitre))\b"
)
_ADDRESSEE = re.compile(
    r"\b(?:(?:mon |my )?(?:petit|little|cher|dear) (?:bot|robot|programme|program)|"
    r"(?:a|to) (?:toi|vous|you)|mon ami|my friend|(?:bot|robot) (?:friend|buddy|pal))\b"
)
"""Whom a goodbye is said to ("petit programme", "à toi"): no question in it."""
_SEE_YOU = re.compile(r"(?<![\w+])[aà@] ?\+(?![\w+])")
""""A+", "à +": French texting for "see you"."""
_LEAVING = re.compile(
    r"\b(?:a plus|a toute|a tte|a la prochaine|a demain|dodo|see you tomorrow|"
    r"je (?:te|vous) laisse|je me (?:sauve|casse|tire)|je file|je dois (?:y aller|filer|partir)|"
    r"(?:belle|bonne|douce|excellente?|agreable) (?:soiree|nuit|journee|continuation|fin de)|"
    r"(?:have|wishing you|wish you) a (?:good|nice|great|lovely) "
    r"(?:one|day|evening|night|weekend|afternoon|morning)|"
    r"(?:bon|excellent|beau) (?:week end|weekend|we)|"
    r"enjoy (?:the rest of )?(?:your |the )?(?:day|evening|afternoon|weekend|night|morning)|"
    r"(?:profite|profitez)(?: bien)? de (?:ta|votre|la) (?:soiree|journee|nuit|fin de)|"
    r"je (?:vais|file) (?:me coucher|dormir|y aller)|"
    r"(?:gotta|got to|have to|need to|must) (?:go|run|leave|bounce)|talk (?:soon|later)|"
    r"(?:catch|see) (?:you|u|ya) (?:later|soon|around|tomorrow)|logging off|signing off|flip side|"
    r"(?:i m|im) (?:off|out)(?: to (?:bed|sleep))?|heading (?:off|out)|good ?night|take care|"
    r"until next time|peace out|"
    r"that s (?:all|it) for (?:today|tonight|now|me)|"
    r"c est tout pour (?:aujourd hui|ce soir|moi|l instant|le moment)|"
    r"(?:see|catch|talk to) (?:you|u|ya) (?:next time|another time|later)|"
    r"(?:prends|prenez) soin de (?:toi|vous)|a la revoyure|au plaisir|"
    r"(?:dors|dormez) bien|sleep (?:well|tight)|j eteins|"
    r"talk to (?:you|u|ya) (?:tomorrow|later|soon|next week)|wrong (?:chat|conversation|window)|"
    r"(?:je me suis |me suis )?trompee? de (?:conversation|discussion|chat)|"
    r"hope (?:the rest of )?(?:your|ur) \w+ (?:is|goes|will be|s) "
    r"(?:great|good|nice|lovely|well))\b"
)
"""A goodbye said in a phrase rather than a word."""
_INSULTS = _wordset(
    "nul nulle nuls naze debile idiot idiote stupide stupid dumb useless worthless pathetic "
    "sucks suck con conne cretin abruti imbecile incompetent inutile rubbish garbage trash "
    "terrible horrible awful worst pire merde crap shit calamite catastrophe catastrophique pourri "
    "pourrie bidon nulos relou chiant waste joke clown moron lame annoying agacant decevant teapot "
    "bete betes pointless nonsense meh"
)
"""Words of a user unhappy with the bot: an apology, not a fact, nor "I don't know"."""


_HOW_ARE_YOU = re.compile(
    r"\b(?:how s it going|how is it going|how are you|how r u|how are things|how you doing|"
    r"how s everything|how is everything|how s life(?: treating (?:you|u))?|"
    r"comment va la vie|"
    r"comment (?:ca va|vas tu|allez vous|tu vas)|ca va bien|tu vas bien|vous allez bien|enforme|"
    r"ca gaze|(?:ta|la|votre) journee se passe|se passe bien|quoi de (?:neuf|9|beau)|"
    r"(?:what s|whats) (?:new|good)(?: with (?:you|u))?|how have you been|"
    r"(?:your|ur) day(?: s| has| is)? (?:going|been)(?: so far)?|"
    r"how s (?:your|ur) (?:\w+ )?(?:treating (?:you|u)|going(?: so far)?)|ca roule|bien ou bien|"
    r"la peche|how about (?:you|yours|u)|et (?:toi|vous) (?:ca va|la journee)|"
    r"all good (?:on your end|with you|over there)|"
    r"(?:tu t|vous vous) ennuie(?:s|z)? pas|(?:tu tiens|vous tenez) le coup|"
    r"(?:holding|hanging) up)\b"
)
_FOR_THE_HELP = (
    r"(?:(?: (?:a|to) (?:toi|vous|you))? (?:pour|for|4) (?:les|tes|vos|ces|toutes ces|the|your|"
    r"all the|these|those) (?:reponses|infos|informations|explications|precisions|"
    r"eclaircissements|answers|info|replies|explanations|help)|(?: (?:a|to) (?:toi|vous|you))|"
    r"(?: (?:pour|for) (?:le coup de main|ton aide|votre aide|the help|your help)))"
)
"""What the thanks are for ("merci à toi pour les réponses"): no question in it."""
_THANKS_PHRASE = re.compile(
    rf"\b(?:(?:un|mille) (?:grand|gros|immense|enorme|tres grand)s? mercis?{_FOR_THE_HELP}?|"
    rf"(?:merci|thanks|thank you|thx){_FOR_THE_HELP}|"
    r"ta (?:very much|muchly|mate|pal|love)|(?:great|good|nice|awesome) (?:job|work|answer)|"
    r"(?:very|super|really|so|tres|trop|vraiment) (?:helpful|utile|clair|clear)|well done|"
    r"bien joue|ce qu il (?:me )?fallait|that (?:cleared|helped|helps)|ca m (?:aide|a aide)|"
    r"chapeau|hats off|kudos|you re (?:a star|the best|a legend|brilliant)|"
    r"t es (?:le meilleur|top)|(?:t es|tu es|vous etes|you re|you are|ur)(?: trop| vraiment| super|"
    r" tres| so| really| honestly)? (?:drole|marrant|marrante|funny|hilarious)|"
    r"(?:you re|you are|ur|u r|t es|tu es)(?: honestly| really| actually)?(?: way| much| bien|"
    r" vraiment| so| a lot)? (?:better|smarter|cleverer|meilleure?) (?:than|que)|"
    r"(?:delighted|happy|glad|ravie?) (?:to be|d etre) (?:chatting|talking|en train de discuter)|"
    r"(?:t es|tu es|vous etes) (?:bien |vraiment |trop )?plus (?:malin|maligne|intelligent|"
    r"intelligente|fort|forte|rapide) que|"
    r"(?:you re|you are|ur|u r)(?: honestly| really| literally| truly)? the best"
    r"(?: bot)?(?: ever)?|"
    r"(?:t es|tu es|vous etes)(?: trop| vraiment| super| tres)*? "
    r"(?:intelligent|intelligente|genial|geniale|"
    r"fort|forte|balaise|doue|douee)|(?:you re|you are|ur|u r) (?:smart|clever|good|great|"
    r"awesome|amazing)|(?:you re|you are|ur|u r)(?: a| an)?(?: pretty| really| so| very| quite)? "
    r"(?:smart|clever|good|great|helpful)(?: little)?(?: bot| robot| one)?|"
    r"(?:i|we) (?:love|like) (?:you|u|this bot)|"
    r"(?:lovely|nice|great|good|(?:a )?pleasure) (?:to|chatting|talking)"
    r" (?:chat|talk|speak|with|to)?"
    r"(?: with| to)? (?:you|u)|"
    r"(?:ravie?|contente?|un plaisir) de (?:discuter|parler|papoter|causer) avec (?:toi|vous)|"
    r"je (?:t aime|t adore|vous adore)|(?:j adore|j aime bien|j aime) (?:ce|ton|le) (?:bot|robot)|"
    r"continue(?:z)? comme ca|keep (?:it up|up the good work)|"
    r"(?:t es|tu es|vous etes) (?:une|un) (?:pepite|perle|crack|champion|championne|genie|ange)|"
    r"(?:brilliant|perfect|parfait|genial|excellent)(?: merci| thanks)?$)\b"
)
_YOUR_REPLY = (
    r"(?:ta|votre|cette|your|that|this|the)(?: (?:derniere|last|precedente|previous))? "
    r"(?:reponse|reply|answer|response)"
)
_COMPLAINT_PHRASE = re.compile(
    rf"\b(?:(?:ca|{_YOUR_REPLY}|tu) (?:ne )?m (?:aide|aides|a aide|avance) (?:pas|en rien)|"
    rf"(?:j ai |j )?rien compris(?: (?:a|de) {_YOUR_REPLY})?|"
    r"je (?:ne )?comprends rien(?: (?:a|de|dans) (?:tes|vos|ta|votre|ces|cette) reponses?)?|"
    r"tu (?:ne )?comprends (?:rien|pas)|j en ai marre|"
    r"(?:j ai |j )?pas (?:tout )?(?:suivi|capte|pige)(?: la)?$|i (?:m )?(?:lost|confused) you|"
    r"(?:tu m as|vous m avez) (?:perdu|perdue)|you (?:lost|confused) me|"
    r"(?:missed|miss|missing) the point|"
    r"(?:repondu|reponse|t es|tu es)(?: \w+){0,2} a l ouest|"
    r"c est pas ce que je (?:demandais|voulais|cherchais)|m a (?:embrouille|perdu)e?|"
    r"(?:j ai |j )?pas(?: du tout)? (?:compris|capte|pige) ce que (?:tu m as|vous m avez) "
    r"(?:repondu|dit|ecrit)|"
    r"(?:c etait|c est|etait|est) (?:du )?n importe quoi|not what i (?:asked|meant)|"
    r"pas ce que (?:j ai|je t ai|je vous ai) demande|"
    rf"{_YOUR_REPLY} (?:didn t|doesn t|did not|does not|isn t|is not|wasn t|was not) "
    r"(?:help|helpful|clear|useful)|(?:didn t|doesn t|did not|does not) help(?: me)?(?: at all)?|"
    r"(?:you re|you are|u r|ur|t es|tu es|vous etes)(?: kinda| so| a bit| trop| vraiment| really|"
    r" un peu)? (?:slow|lent|lente|useless)|"
    r"(?:tu|vous)(?: ne)? (?:sers|servez) (?:a|strictement a|vraiment a) rien|"
    r"(?:tes|vos|ces|les) reponses(?: ne)? servent (?:a|strictement a|vraiment a) rien|"
    r"(?:ta|votre|cette) reponse(?: ne)? sert (?:a|strictement a|vraiment a) rien|"
    r"(?:tes|vos|ces|your|these|those|the) (?:reponses|replies|answers|responses) (?:sont|are)"
    r"(?: vraiment| trop| really| so| pretty| tellement)? (?:nulles|nuls|bad|wrong|fausses|"
    r"useless|inutiles|terrible|awful|rubbish|pourries|bidons|nazes)|"
    r"(?:t as|tu as|vous avez) (?:mal|pas bien) repondu|"
    r"(?:t es|tu es|vous etes|you re|you are|ur|u r) (?:pas|not)"
    r"(?: (?:tres|bien|super|si|tellement|very|that|so|too))? "
    r"(?:malin|maligne|intelligent|intelligente|fute|futee|doue|douee|smart|bright|clever)|"
    r"(?:completement |vraiment |totalement )?a cote de la plaque|(?:completement )?hors sujet|"
    r"(?:way |totally |completely )?off the mark|(?:way |totally |completely )?off topic|"
    rf"(?:(?:{_YOUR_REPLY}|you|it)(?: just)? )?(?:made|makes) (?:zero|no|0) sense|"
    rf"{_YOUR_REPLY} (?:est |is )?(?:nulle|nul|bad|wrong|fausse|faux|useless|inutile)|"
    rf"{_YOUR_REPLY} (?:n )?(?:etait|est|was|is|m a|m as)(?: vraiment| really)*(?: pas| not)"
    r"(?: vraiment| really| du tout| tres| very)* (?:claire?|clear|aide|helpful|utile))\b"
)
"""A user telling us an answer did not help: an apology and a way forward, not a fact."""
_ROGER = re.compile(
    r"\b(?:(?:recu )?(?:5|cinq) sur (?:5|cinq)|loud and clear|roger that|copy that|gotcha|got it|"
    r"makes sense|fair enough|pige|c est note|ok ca marche)\b"
)


_WHO_ARE_YOU_ANYWHERE = tuple(
    re.compile(rf"\b(?:{pattern.pattern})\b")
    for pattern, kind in _SMALLTALK_PHRASES
    if kind == "who_are_you"
)


def marker(text: str, known: frozenset[str] = frozenset()) -> tuple[Kind, str] | None:
    """The kind of small talk a message makes around words we may not know, and the words
    left around its phrase, less that kind's own words ("top, c'était clair, merci": "top"
    thanks too, it is not the App Store's top spot).

    "Salut l'ami !", "thx m8", "bye, have a good one", "how's it going on your end?": phrases
    about the bot, how we are, thanks and acks count wherever they are; a greeting, goodbye or
    insult word only in a message with no question word ("salut, c'est quoi le bitcoin ?"
    deserves "I don't know"). The engine decides whether the words left ask a question:
    "passe une belle fin de journée" is a goodbye whatever "belle" and "fin" mean elsewhere.
    """
    marked = _marker(text, known)
    if marked is None:
        return None
    kind, rest = marked
    own = _SMALLTALK.get(kind, frozenset())
    return kind, " ".join(w for w in rest.split() if w not in own)


def said_to_us(text: str, known: frozenset[str] = frozenset()) -> tuple[Kind, list[str]] | None:
    """The small talk a message makes by its words alone, and its other words, for a message
    the knowledge has no answer to: the caller checks that the other words mean nothing there.

    A greeting, thanks, goodbye or insult word in a message that asks nothing ("greetings from
    rainy Manchester", "much obliged", "ur replies are meh") is that kind; a message said to
    the bot ("c'est quoi ton blaze", "hope you're having a decent week") is about us."""
    found = [_small_talk_spelling(w, known) for w in words(text)]
    rest = [w for w in found if w not in _SMALLTALK_WORDS and w not in _INSULTS]
    if not any(w in _ASKING for w in found):
        for kind, marks in (("complaint", _INSULTS), *_MARKERS.items()):
            if any(w in marks for w in found):
                return kind, rest
    if any(w in _YOU for w in found):
        return "who_are_you", rest
    return None


def _marker(text: str, known: frozenset[str]) -> tuple[Kind, str] | None:
    found = [_small_talk_spelling(w, known) for w in words(text)]
    joined = " ".join(found)

    def around(said: re.Match[str]) -> str:
        return f"{joined[: said.start()]} {joined[said.end() :]}"

    for pattern in _WHO_ARE_YOU_ANYWHERE:
        said = pattern.search(joined)
        if said and all(t in _SMALLTALK_STEMS for t in tokens(joined[said.end() :])):
            # "wait, who am I chatting with here?" is about the bot; "is this an AI bubble?" not.
            return "who_are_you", around(said)
    phrases: tuple[tuple[re.Pattern[str], Kind], ...] = (
        (_HOW_ARE_YOU, "how_are_you"),  # "how's it going on your end today?"
        (_COMPLAINT_PHRASE, "complaint"),  # before thanks: "ça m'aide pas" is no "ça m'aide"
        (_ROGER, "ack"),
        (_THANKS_PHRASE, "thanks"),
    )
    for pattern, kind in phrases:
        if said := pattern.search(joined):
            if kind == "complaint" and any(w in _ASKING for w in around(said).split()):
                return None  # "c koi deepseek en fait, g pas suivi": lost, and asking
            if kind == "thanks" and said.group().endswith((" than", " que")):
                # "smarter than my old phone assistant": what we are compared with asks nothing.
                return kind, joined[: said.start()]
            return kind, around(said)
    if any(w in _ASKING for w in found):
        return None
    if _SEE_YOU.search(fold(text)):
        return "bye", joined
    for pattern, kind in ((_LEAVING, "bye"), (_GREETING_PHRASE, "greeting")):
        if pattern.search(joined):
            # "bon je file, belle journée à toi": every goodbye said, and whom it is said to.
            return kind, _ADDRESSEE.sub(" ", pattern.sub(" ", joined))
    for kind, marks in (("complaint", _INSULTS), *_MARKERS.items()):
        if any(w in marks for w in found):
            return kind, " ".join(w for w in found if w not in marks)
    return None
