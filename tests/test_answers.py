"""What a user gets back: facts with figures and sources, or an honest "I don't know"."""

from __future__ import annotations

import pytest

from bot.answers import FALLBACK_TOPICS, Engine, EngineRef
from bot.knowledge import Lang, parse_knowledge
from tests.conftest import CONTRACT_KEYS, KNOWLEDGE


def test_answer_carries_figures_source_and_language(engine: Engine) -> None:
    reply = engine.ask("Combien a coûté l'entraînement de GPT-4 ?")
    assert reply.answered and reply.entry == "training_cost" and reply.lang == "fr"
    displays = [f.display for f in reply.figures]
    assert "78 millions de dollars" in displays
    assert "moins de 6 millions de dollars" in displays
    assert reply.source is not None and "78 millions de dollars" in reply.source.quote
    assert "Yuyuan Tantian" in reply.source.who
    assert "78 millions de dollars" in reply.text and reply.source.quote in reply.text


def test_english_question_gets_english_reply(engine: Engine) -> None:
    reply = engine.ask("How much does DeepSeek-R1 cost per million tokens?")
    assert reply.entry == "r1_pricing" and reply.lang == "en"
    assert "$2.2 per million tokens" in [f.display for f in reply.figures]
    assert reply.text.startswith(reply.body) and "Cited figures:" in reply.text


def test_near_miss_sharing_the_main_word_is_abstained_on(engine: Engine) -> None:
    reply = engine.ask("Quel âge a le patron de DeepSeek ?")
    assert not reply.answered and reply.entry is None and reply.closest is not None
    assert reply.figures == () and reply.source is None


def test_a_phrase_a_moderator_adds_to_the_file_changes_how_questions_are_read(
    engine: Engine,
) -> None:
    question = "what did mister tariff say about it?"
    assert not engine.ask(question).answered
    text = KNOWLEDGE.read_text().replace(
        "phrases:\n", "phrases:\n  - read_as: trump\n    said: ['mister tariff', 'mr tariff']\n", 1
    )
    edited = Engine.from_knowledge(parse_knowledge(text.encode()))
    assert edited.ask(question).entry == "trump_wake_up_call"
    assert edited.ask("qu'a dit Mr Tariff ?").entry == "trump_wake_up_call"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # "Au fond" is "basically", not the gap's "tendance de fond".
        ("au fond, deepseek c'est quoi comme boîte ?", "deepseek_overview"),
        # Losing one's position is the jobs US tech workers fear for, not a ranking.
        ("are american engineers worried about losing their positions?", "meta_llama"),
        # How many tokens fit in one prompt is no price per million tokens.
        ("how many tokens can R1 take in a single prompt?", None),
        # DeepSeek is not listed: buying its shares is not the share prices that fell.
        ("where can i buy deepseek shares on the stock market?", None),
        # The article names none of the stocks that fell, nor says where our data goes.
        ("quelle action a le plus chuté à cause de deepseek ?", None),
        ("does deepseek send our data to china?", None),
        # Where its GPUs come from, and who ranks after China, the article never says.
        ("where did deepseek buy their gpus?", None),
        ("quel pays arrive juste après la chine pour les investissements en IA ?", None),
        # "S'y prendre" is how it is done: the method.
        ("comment ils s'y sont pris chez deepseek pour l'entraînement ?", "training_strategy"),
        # "Numéro combien" asks a rank, which the App Store entry gives without a figure.
        ("deepseek est numéro combien dans l'app store américain ?", "app_store_ranking"),
        # Coders and "les pros de la tech" are the tech workers afraid for their jobs.
        ("are silicon valley coders scared for their jobs?", "meta_llama"),
        ("les pros de la tech aux usa flippent ?", "meta_llama"),
        # Meta's leadership is its executives; money put into AI is investment.
        ("how did meta's leadership respond to deepseek", "meta_llama"),
        ("is the us still ahead on ai money even with deepseek?", "ai_investment"),
        # "Une petite phrase" is a soundbite; "lose so much value" a fall.
        ("donald a sorti une petite phrase sur deepseek ?", "trump_wake_up_call"),
        ("why did us tech stocks lose so much value?", "tech_stocks_fall"),
        # Bleeding stocks fall ("bleed" read as a synonym stemmed like "blé", money).
        ("us tech stocks bleeding after deepseek", "tech_stocks_fall"),
        # Index funds and value are no India nor valuation, which stay off-topic.
        ("my tech index funds went down, is deepseek why?", "tech_stocks_fall"),
        ("what is deepseek's valuation?", None),
        ("l'inde investit-elle dans l'ia ?", None),
        # Finding out is no founding (the founders are off-topic).
        ("I just found out deepseek topped the app store, is that right?", "app_store_ranking"),
        ("found this article, how much did gpt-4 cost to train?", "training_cost"),
        ("who founded deepseek?", None),
        # What o1 cost to train, a yearly budget, which states banned it, how OpenAI reacted:
        # the article gives GPT-4's training cost, o1's price, the House ban, Trump's words.
        ("how much did it cost openai to train o1?", None),
        ("the china academy of industrial internet's yearly budget?", None),
        ("which states have banned deepseek?", None),
        ("how did openai respond to deepseek?", None),
        ("comment openai a réagi face à deepseek ?", None),
        # Names run together or cut short, and slang: "ovni" is a fluke, "grillé" overtaken.
        ("yu yuan tan tian, c'est quoi ?", "yuyuan_tantian"),
        ("yuyuantantian c'est qui", "yuyuan_tantian"),
        ("dpsk c quoi ?", "deepseek_overview"),
        ("deepseek, un ovni ou une vraie tendance chinoise ?", "capability_gap"),
        # Fillers that ask nothing ("quasi", "fameux", the "nd" of "2nd") no longer count
        # against every entry.
        ("le fameux quasi 75%, ça mesure quoi ?", "capability_gap"),
        ("is china 2nd in ai investmnet", "ai_investment"),
        # Rewriting the rules is a shake-up, "on edge" worry, "told to stay away" a ban, and
        # the West the US side of the gap.
        ("is deepseek rewriting the rules of ai?", "ai_landscape"),
        ("why is washington on edge about deepseek?", "us_concern_reasons"),
        ("were lawmakers told to stay away from the chinese app?", "house_ban"),
        ("is china catching up with the west in ai?", "capability_gap"),
        # "L'affaire" is the matter at hand, a turnover ("chiffre d'affaires") is off-topic;
        # "chinese or Korean?" asks where it comes from.
        ("le locataire de la maison blanche a dit quoi sur l'affaire ?", "trump_wake_up_call"),
        ("quel est le chiffre d'affaires de deepseek ?", None),
        ("deepseek, c'est chinois ou japonais ?", "deepseek_overview"),
        ("is deepseek chinese or korean?", "deepseek_overview"),
        # A figure by its whole part: 64 billion is the 64.1 billion the US invested; a lone
        # digit is not rounded ("5 milliards" is no 5.5, "five years ago" no figure).
        ("les 64 milliards, c'est l'argent de qui ?", "ai_investment"),
        ("about 64 billion dollars, whose money is that?", "ai_investment"),
        ("5 milliards de dollars ?", None),
        # "Rethinking how much they spend" asks about the doubts, not for a figure; "how much
        # did Meta spend" asks for one the article does not give.
        ("are meta's execs rethinking how much they spend on ai?", "meta_llama"),
        ("how much did meta spend on llama?", None),
        # Chat shorthand: "tl;dr" asks for the gist, "em" are them; "before" asks nothing
        # (it used to pick the training strategy).
        ("gimme the tl;dr of that article", "deepseek_overview"),
        ("deepseek, never heard of em, who r they?", "deepseek_overview"),
        ("never heard of them before, who are deepseek?", "deepseek_overview"),
    ],
)
def test_phrases_read_for_what_they_mean(engine: Engine, question: str, expected: str) -> None:
    reply = engine.ask(question)
    assert reply.entry == expected and reply.answered == (expected is not None)


@pytest.mark.parametrize("question", ["axios ?", "Axios, c'est quoi ?", "tank?"])
def test_a_word_of_the_knowledge_is_never_small_talk_typed_wrong(
    engine: Engine, question: str
) -> None:
    # "axios" is one letter from "adios", "tank" from "thank": never a goodbye or a thanks.
    assert engine.ask(question).kind != "chitchat"


def test_a_day_the_fact_does_not_name_is_not_that_fact(engine: Engine) -> None:
    # Trump spoke on a Monday, Axios reported on a Thursday.
    assert engine.ask("What did Trump say on Monday about DeepSeek?").entry == "trump_wake_up_call"
    assert not engine.ask("What did Trump say on Thursday about DeepSeek?").answered
    assert not engine.ask("did axios publish anything about deepseek on monday?").answered


def test_terse_misspelt_question_is_answered(engine: Engine) -> None:
    reply = engine.ask("cout r1 par milion")
    assert reply.answered and reply.entry == "r1_pricing"


def test_a_quantity_question_is_answered_by_the_fact_with_the_number(engine: Engine) -> None:
    # The training strategy shares every word; only the training cost gives an amount.
    reply = engine.ask("combien a coûté la formation du modèle de deepseek")
    assert reply.answered and reply.entry == "training_cost"
    # The best match has no number: asking is better than answering another fact.
    assert not engine.ask("how many employees does deepseek have").answered


@pytest.mark.parametrize(
    "question",
    [
        "when was deepseek created",
        "when did deepseek launch",
        "deepseek date de lancement",
        "how old is deepseek",
        "when did deepseek come out",
        "deepseek a commencé quand",
    ],
)
def test_when_a_fact_that_names_no_date_is_not_an_answer(engine: Engine, question: str) -> None:
    # Each shares its one content word with a fact (the R1 launch, the App Store climb), but
    # the article never says when DeepSeek was created or launched.
    assert not engine.ask(question).answered


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("quand trump a parlé de deepseek", "trump_wake_up_call"),
        ("when did axios report the ban", "house_ban"),
    ],
)
def test_when_is_answered_by_the_fact_that_says_when(
    engine: Engine, question: str, entry: str
) -> None:
    reply = engine.ask(question)
    assert reply.answered and reply.entry == entry


def test_a_long_rambling_question_with_a_clear_subject_is_answered(engine: Engine) -> None:
    reply = engine.ask(
        "My uncle and I were arguing at dinner yesterday and neither of us could settle it: "
        "is the share price drop of those American tech firms really connected to DeepSeek?"
    )
    assert reply.answered and reply.entry == "tech_stocks_fall"


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        (
            "Je suis électricien à Brest et je voudrais savoir ce que Trump a dit sur DeepSeek",
            "trump_wake_up_call",
        ),
        (
            "As a dentist in Leeds I keep hearing about DeepSeek, what did the House of "
            "Representatives decide about it?",
            "house_ban",
        ),
    ],
)
def test_who_is_asking_does_not_hide_what_is_asked(
    engine: Engine, question: str, entry: str
) -> None:
    # "électricien" and "dentist" are spelt like words the knowledge base uses.
    reply = engine.ask(question)
    assert reply.answered and reply.entry == entry


@pytest.mark.parametrize(
    "question",
    [
        "DeepSeek, c'est une boîte chinoise ou américaine ?",
        "is deepseek a chinese or an american firm?",
        "DeepSeek, chinois ou américain ?",  # the entry ranks below five others sharing all
        "ma voisine dit que DeepSeek est américain, elle a raison ?",  # who says it aside
        "is deepseek an american company or a chinese one?",  # "one" is no one-off
    ],
)
def test_what_the_subject_is_gets_the_entry_presenting_it(engine: Engine, question: str) -> None:
    # Why the US worries names China and America too; the question asks nothing about worry.
    assert engine.ask(question).entry == engine.kb.article.entry == "deepseek_overview"


@pytest.mark.parametrize(
    "question",
    [
        "quel est le budget exact de Meta pour Llama ?",  # vast resources, no amount
        "how do I sign up for DeepSeek?",  # not Yuyuan Tantian's social media account
        "what do european countries invest in ai",  # China and the US only
        "est-ce que DeepSeek stocke nos conversations ?",  # storing data, not stocks
        "who's in charge at China Media Group?",  # its boss, not its affiliated account
        "will it snow in Chicago tomorrow?",  # "snow" is no typo of a three-letter word
        "quel budget Meta a-t-il mis dans Llama, en dollars ?",  # an amount it never gives
        "who runs China Media Group these days?",
        "the woman running DeepSeek, what's her name?",
        "Meta's exact dollar outlay for Llama?",
        "le budget de Meta pour Llama, en chiffres précis ?",
        "quels GPU DeepSeek a-t-il utilisés ?",  # the chips, never named
        "DeepSeek a-t-il utilisé des H100 ?",
        "who leads DeepSeek these days?",
        "nombre total de téléchargements de DeepSeek ?",  # first in the App Store, no count
        "who owns deepseek",  # its owner is never named
        "à qui appartient DeepSeek ?",
        "did deepseek steal openai's data?",  # not the training data it filters
        "DeepSeek a volé les données d'OpenAI ?",
        "how many people use deepseek",  # no user count, not R1's use
        "how much does chatgpt plus cost",  # a subscription, not GPT-4's training
        "quelle est la part de marché de deepseek",  # no market share, not share prices
        "combien de temps pour entraîner deepseek",  # no duration, not the cost
        "who's the guy who started deepseek",  # its founder is never named
        "how much funding has deepseek raised",  # not what China invests in AI
        "combien d'argent a levé deepseek",
        "who invested in deepseek",
        "les investisseurs de deepseek",  # not the investors who sold tech stocks
        "deepseek tourne sur quel type de gpu",  # the chips, never named
        "deepseek's chief executive, what's his name",  # its boss, not the US president
        "max tokens of context deepseek r1 can handle",  # not the price of a million tokens
        "how much does the eu spend on ai research",  # the EU, not R1's research institutions
        "deepseek a combien d'inscrits dans le monde",  # its users, not "s'inscrit dans"
        "is the house ban going to become a law",
        "nb de téléchargements de DeepSeek au total ?",  # a count the article never gives
        "le modèle R1 a été lancé quel jour exactement",  # "recently", no day
        "la boîte deepseek a son QG dans quelle province chinoise",
        "how do i get a deepseek api key",  # an account matter, not R1's price
        "r1 est-il plus rapide que o1",  # speed, not price
        "qui possède china media group",
        "how is china media group funded",  # not what countries invest in AI
        "how big is the deepseek team, number of engineers",
        "peut-on télécharger les poids du modèle deepseek gratuitement",  # not the App Store
        "what hardware did deepseek use to train r1",  # which servers, never named
        "are my chats with deepseek kept on servers in china",  # storage, not compute
        "after the us and china, who's number three for ai money",  # no third place given
        "how many tokens can r1 handle in one prompt",  # a limit, not a price
        "deepseek v3 api pricing per million input tokens?",
        "monthly fee for openai's premium chatgpt tier",  # not GPT-4's training cost
        "les bureaux de deepseek sont situés où en chine",  # not Congress's offices
        "name of the person heading deepseek",
        "what investment firm funds deepseek",
    ],
)
def test_what_the_article_does_not_say_about_its_facts_is_not_answered(
    engine: Engine, question: str
) -> None:
    assert not engine.ask(question).answered


def test_who_runs_the_account_is_what_it_is_affiliated_with(engine: Engine) -> None:
    assert engine.ask("who runs the Yuyuan Tantian account?").entry == "yuyuan_tantian"
    # Who leads in AI funding is a country, not a boss.
    assert engine.ask("who leads AI funding, the US or China?").entry == "ai_investment"


def test_founded_funds_and_a_deep_trend_are_three_words(engine: Engine) -> None:
    assert not engine.ask("qui a fondé DeepSeek ?").answered
    assert engine.ask("les fonds chinois pour l'IA, combien ?").entry == "ai_investment"
    reply = engine.ask("DeepSeek, coup de chance ou tendance de fond ?")
    assert reply.entry == "capability_gap"


def test_a_question_about_something_other_than_a_fact_is_not_answered(engine: Engine) -> None:
    reply = engine.ask("Apart from Trump, did any other American politician comment on DeepSeek?")
    assert not reply.answered and reply.suggestions
    assert not engine.ask("Mis à part la Chine, quel autre pays investit dans l'IA ?").answered


def test_a_number_the_article_never_gives_is_not_answered(engine: Engine) -> None:
    reply = engine.ask("à quoi correspondent les 300 milliards ?")
    assert not reply.answered and reply.figures == ()
    assert engine.ask("à quoi correspondent les 5,5 milliards ?").entry == "ai_investment"
    # Ranks too: the article gives China's (second), no one else's.
    assert not engine.ask("quel pays est quatrième en investissement IA ?").answered
    assert engine.ask("la chine est-elle deuxième pour l'investissement en IA ?").answered


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("c'est quoi 64,1 milliards ?", "ai_investment"),
        ("what is the 2.2 dollars figure?", "r1_pricing"),
        ("75 % ?", "capability_gap"),
    ],
)
def test_a_figure_is_found_by_its_value(engine: Engine, question: str, entry: str) -> None:
    reply = engine.ask(question)
    assert reply.answered and reply.entry == entry


def test_comparisons_are_computed_and_marked(engine: Engine) -> None:
    r1 = engine.reply_for("r1_pricing", "en")
    assert r1.computed == (
        "Computed from the cited figures: $60 per million tokens is about 27 times "
        "$2.2 per million tokens.",
    )
    cost = engine.reply_for("training_cost", "fr")
    assert len(cost.computed) == 1
    assert cost.computed[0].startswith("Calcul à partir des chiffres cités")
    assert "plus de 13 fois" in cost.computed[0]  # "under $6M" makes 13 a floor
    assert engine.reply_for("trump_wake_up_call", "en").computed == ()


@pytest.mark.parametrize("question", ["bonjour !", "merci beaucoup", "thanks!", "salut ça va ?"])
def test_small_talk_gets_a_friendly_word_never_a_fact(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.kind == "chitchat" and not reply.answered
    assert reply.figures == () and reply.source is None and reply.entry is None


@pytest.mark.parametrize(
    ("message", "lang"),
    [
        ("what's up", "en"),  # not the "wake-up call"
        ("ça roule ?", "fr"),
        ("es-tu une IA ?", "fr"),  # not the AI landscape
        ("are you an AI?", "en"),
        ("qui t'a créé ?", "fr"),
        ("who made you", "en"),
        ("que peux-tu faire ?", "fr"),
        ("what can you tell me", "en"),
        ("understood", "en"),
        ("no problem", "en"),
        ("take care", "en"),
        ("c'est noté", "fr"),
        ("de rien", "fr"),
        ("thanks a lot mate", "en"),
        ("hey there, how's it going?", "en"),
        ("you awake?", "en"),  # not the wake-up call
        ("tu es réveillé ?", "fr"),
        ("thanks a million", "en"),  # not a figure
        ("pas de souci", "fr"),  # not the US worries
        ("comment tu t'appelles ?", "fr"),
        ("interesting", "en"),
        ("salutt 😊", "fr"),
        ("es-tu une intelligence artificielle ?", "fr"),  # not the AI investment
        ("you're smart", "en"),  # a compliment, not the frugal training
        ("what's new with you", "en"),  # not the new AI landscape
        ("tu as quel âge ?", "fr"),
        ("nice to meet you", "en"),
        ("tu parles anglais ?", "fr"),
        ("is a real person writing these answers?", "en"),
        ("t'es vraiment intelligent", "fr"),
    ],
)
def test_everyday_chat_is_small_talk_in_its_language(
    engine: Engine, message: str, lang: str
) -> None:
    reply = engine.ask(message)
    assert (reply.kind, reply.lang, reply.entry) == ("chitchat", lang, None)


@pytest.mark.parametrize(
    ("message", "same_as"),
    [
        ("Salut mon vieux !", "bonjour"),
        ("hello friend 👋", "hello"),
        ("merci, c'était limpide", "merci"),
        ("cheers m8", "thanks"),
        ("goodbye and have a lovely evening", "bye"),
        ("a+ dans le métro", "au revoir"),
        ("are you a real human or a bot?", "who are you?"),
        ("hmm, who am I chatting with right now?", "who are you?"),
        ("je file me coucher, bonne nuit", "au revoir"),
        ("gotta run, talk soon", "bye"),
        ("allez, dodo, à demain", "au revoir"),
        ("how's it going on your side today?", "how are you?"),
        ("bien reçu, cinq sur cinq", "ok"),
        ("t'es qui au juste, y a un humain derrière l'écran ?", "qui es-tu ?"),
        ("coucou, en forme ce matin ?", "ça va ?"),
        ("mille mercis, c'est tout à fait ce qu'il me fallait", "merci"),
        ("well done, super helpful", "thanks"),
        ("Hi, is anybody there?", "hello"),
        ("am I chatting with a human or some software?", "who are you?"),
        ("tu es capable de quoi au juste ?", "qui es-tu ?"),
        ("allez je file, à la revoyure", "au revoir"),
        ("chapeau bas, c'était limpide", "merci"),
        ("gotcha, makes sense now", "understood"),
        ("what are your skills, apart from this article?", "who are you?"),
        ("bon, passe une belle fin de soirée !", "au revoir"),  # "belle", "fin" known elsewhere
        ("yo quoi de neuf mon pote", "ça va ?"),
        ("who created this bot anyway?", "who are you?"),
        ("sur quel type de sujets tu peux m'aider ?", "qui es-tu ?"),
        ("until next time, cheers", "bye"),
        ("je vous souhaite une excellente soirée", "au revoir"),
        ("how's your day been so far?", "how are you?"),
        ("bon je file, belle soirée à toi", "au revoir"),  # "je file" is no typo of "fine"
        ("happy friday bot", "hello"),  # an off-topic word inside the phrase itself
        ("that's all for today, peace out", "bye"),
        ("passe une douce nuit petit programme", "au revoir"),
        ("haha t'es drôle", "merci"),
        ("you're honestly the best bot ever", "thanks"),
        ("how's everything on your end?", "how are you?"),
        ("wishing you a lovely afternoon", "bye"),
        ("top, c'était clair, merci", "merci"),  # "top" thanks here, not the App Store's
        ("c'est quoi ton blaze", "qui es-tu ?"),  # said to the bot, no word we know
        ("hope you're having a decent week, bot", "who are you?"),
        ("t'es bien meilleur que prévu", "merci"),
        ("enjoy the rest of your day", "bye"),
        ("salutations cher robot", "bonjour"),  # "cher" is no price here
        ("t'es vraiment trop fort", "merci"),
        ("lovely to chat with you", "thanks"),
        ("how's life treating you?", "how are you?"),
        ("un grand merci à toi pour les réponses", "merci"),  # "réponses" is no reaction
        ("thanks for all the info", "thanks"),
        ("on t'appelle comment toi", "qui es-tu ?"),
        ("got a name or should i just call you bot", "who are you?"),
        ("hope your day's been good so far", "how are you?"),
        ("top, merci pour le coup de main", "merci"),  # "top" is no App Store top here
        ("hello from brazil!", "hello"),  # where the writer is, not an off-topic question
        ("glad to meet ya, bot friend", "hello"),
        ("hein ? j'ai pas suivi là", "j'ai rien compris"),
        ("quelqu'un tape les réponses ou c'est un programme ?", "qui es-tu ?"),
        ("how's your tuesday treating you, bot friend", "how are you?"),
        ("haha ok whatever", "got it"),
        ("bon j'éteins, dors bien petit bot", "au revoir"),
        ("c'est un humain qui tape tes réponses ou t'es programmé", "qui es-tu ?"),
        ("you're honestly way smarter than i expected", "thanks"),
        ("hope the rest of your tuesday is great", "bye"),
        ("how's your day going so far", "how are you?"),  # "so far" is no distance
        ("je comprends rien à tes réponses", "j'ai rien compris"),  # not Trump's reaction
        ("ta réponse était pas claire du tout", "j'ai rien compris"),
        ("ta réponse était claire, merci", "merci"),
        ("quelles sont tes capacités en fait", "qui es-tu ?"),  # not the capability gap
        ("c'est qui ton créateur ?", "qui es-tu ?"),
        ("attends, c'est une IA ou un stagiaire qui me répond ?", "qui es-tu ?"),
        ("talk to you tomorrow", "bye"),
        ("la pêche aujourd'hui mon petit bot ?", "ça va ?"),
        ("good evening from montreal", "hello"),  # not Yuyuan Tantian's "evening"
        ("tu sais répondre à quel genre de questions au juste ?", "qui es-tu ?"),
        ("hold on, what exactly am I talking to?", "who are you?"),
        ("sorry, wrong chat", "bye"),
        ("ugh, you totally missed the point of my question", "that didn't help"),
        ("ta réponse m'a embrouillé encore plus", "j'ai rien compris"),
        ("tes réponses sont pourries", "ta réponse est nulle"),  # not Trump's reaction
        ("bof ta dernière réponse m'a pas du tout aidé", "j'ai rien compris"),
        ("qui t'a fabriqué, une entreprise ?", "qui es-tu ?"),
        ("on peut discuter en français avec toi ?", "qui es-tu ?"),
        ("r u some kind of ai or an actual guy", "who are you?"),
        ("sup dude", "hello"),
        ("j'ai pas tout suivi là, tu m'as perdu", "j'ai rien compris"),
        # A greeting, thanks, goodbye or insult word beside words the knowledge does not use,
        # or only guesses at ("greetings" is not "great" typed wrong; "robot" is no question).
        ("greetings from a snowy village, bot", "hello"),
        ("sup robot, hows ur weekend", "hello"),
        ("much obliged, amigo", "thanks"),
        ("pleasure chatting with you", "thanks"),
        ("ok im off to bed", "bye"),
        ("ngl these replies are kinda meh", "you're useless"),
        ("t'es pas très malin hein", "t'es vraiment nul"),  # not the training strategy's trick
        ("so what are you, like an ai helper?", "who are you?"),  # not the overview
        ("on se tutoie ?", "qui es-tu ?"),
        ("you're way smarter than my old phone assistant", "thanks"),  # not the App Store
        ("pretty neat little assistant", "thanks"),
        ("tu tiens le coup aujourd'hui le robot ?", "ça va ?"),
        ("y a quelqu'un en chair et en os qui me répond ?", "qui es-tu ?"),
    ],
)
def test_a_greeting_around_words_we_do_not_know_is_still_small_talk(
    engine: Engine, message: str, same_as: str
) -> None:
    reply = engine.ask(message)
    assert (reply.kind, reply.entry) == ("chitchat", None)
    assert reply.text == engine.ask(same_as).text


@pytest.mark.parametrize(
    ("message", "lang"),
    [
        ("t'es vraiment nul", "fr"),
        ("you're useless", "en"),
        ("franchement, une calamité ce bot", "fr"),
        ("j'ai rien compris à votre réponse", "fr"),  # "réponse" is no reaction of Trump's
        ("ça m'aide pas", "fr"),  # not "ça m'aide", thanks
        ("your answer didn't help at all", "en"),
        ("you're so slow", "en"),
        ("tes réponses servent à rien", "fr"),
        ("your last reply made zero sense", "en"),
        ("tes réponses sont à côté de la plaque", "fr"),
        ("ta réponse sert à rien", "fr"),
        ("franchement, c'était n'importe quoi", "fr"),
        ("ugh, not what I asked", "en"),
        ("j'ai pas du tout capté ce que tu m'as répondu", "fr"),
        ("this thing is pointless", "en"),
    ],
)
def test_an_unhappy_user_gets_an_apology_and_a_way_forward(
    engine: Engine, message: str, lang: str
) -> None:
    reply = engine.ask(message)
    assert (reply.kind, reply.lang, reply.entry) == ("chitchat", lang, None)
    assert "/topics" in reply.text
    assert reply.text != engine.ask("ok" if lang == "en" else "d'accord").text


@pytest.mark.parametrize(
    "question",
    ["salut, c'est quoi le bitcoin ?", "hello, who founded deepseek", "hi what's the weather"],
)
def test_a_greeting_does_not_turn_a_question_into_small_talk(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.kind in ("fallback", "suggest") and not reply.answered


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("what's up with the house ban?", "house_ban"),
        ("are you sure R1 costs 2.2 dollars?", "r1_pricing"),
        ("ok so what about the app store", "app_store_ranking"),
        ("ça m'aide pas, et le prix de r1 ?", "r1_pricing"),
    ],
)
def test_small_talk_words_in_a_real_question_do_not_hide_it(
    engine: Engine, question: str, entry: str
) -> None:
    assert engine.ask(question).entry == entry


@pytest.mark.parametrize(
    "question",
    # Said to the bot, but with words the bot knows or guesses at ("calcul", "help"): the
    # topics tell what it can do better than who it is.
    ["recommande-moi un bon film", "can you help me with my calculus homework"],
)
def test_unrelated_question_falls_back_to_the_topics(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.kind == "fallback" and not reply.answered
    assert len(reply.suggestions) == engine.entry_count
    assert "Chute des actions" in reply.text or reply.suggestions[0].topic in reply.text


def test_fallback_in_a_large_knowledge_base_lists_a_few_topics_and_points_to_all(
    engine: Engine,
) -> None:
    copies = [
        entry.model_copy(update={"id": f"{entry.id}_{k}", "related": []})
        for k in range(1, 25)
        for entry in engine.kb.entries
    ]
    big = Engine.from_knowledge(
        engine.kb.model_copy(update={"entries": [*engine.kb.entries, *copies]})
    )
    assert big.entry_count > 300
    for question, lang, more in [
        ("recommande-moi un bon film", "fr", "/topics les liste tous"),
        ("what's the weather like in Paris tomorrow?", "en", "/topics lists them all"),
    ]:
        reply = big.ask(question)
        assert reply.kind == "fallback" and reply.lang == lang and not reply.answered
        assert 1 <= len(reply.suggestions) <= FALLBACK_TOPICS
        assert len({s.entry for s in reply.suggestions}) == len(reply.suggestions)
        assert all(big.entry(s.entry) is not None for s in reply.suggestions)
        assert more in reply.text
    assert len(big.topics("en").suggestions) == big.entry_count  # /topics still lists them all


def test_vague_question_offers_at_most_three_suggestions(engine: Engine) -> None:
    reply = engine.ask("deepseek openai ?")
    assert not reply.answered
    if reply.kind == "suggest":
        assert 1 <= len(reply.suggestions) <= 3
        assert all(engine.kb.entry(s.entry) is not None for s in reply.suggestions)


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_gets_a_helpful_prompt(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.kind == "prompt" and "GPT-4" in reply.body


def test_huge_question_is_refused_politely_before_any_matching(engine: Engine) -> None:
    reply = engine.ask("prix r1 " * 1300)  # would match r1_pricing if it were searched
    assert reply.kind == "prompt" and "1000" in reply.body and reply.entry is None


@pytest.mark.parametrize(
    "question",
    [
        "?",
        "🙂🤖🔥",
        "\x00\x1b[31m",
        "\u202eعربي עברית",
        "ДипСик цена",
        "<b>prix</b> r1 &amp;",
        "\ud800",
    ],
)
def test_odd_input_never_crashes(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert reply.lang in ("fr", "en") and reply.text


def test_lang_hint_used_only_when_the_question_is_unclear(engine: Engine) -> None:
    assert engine.ask("DeepSeek R1 ?", lang_hint="en").lang == "en"
    assert engine.ask("Combien coûte R1 ?", lang_hint="en").lang == "fr"


def test_topics_figures_and_about(engine: Engine) -> None:
    assert len(engine.topics("en").suggestions) == engine.entry_count
    overview = engine.figures_overview("fr")
    assert {"78 millions de dollars", "64,1 milliards de dollars", "près de 75 %"} <= {
        f.display for f in overview.figures
    }
    assert "Yuyuan Tantian" in engine.about("fr").body


def test_search_offers_several_answers_for_inline_mode(engine: Engine) -> None:
    results = engine.search("prix", limit=5)
    assert 1 <= len(results) <= 5 and all(r.answered for r in results)
    assert engine.search("") == []


def test_json_contract_has_exactly_the_agreed_keys(engine: Engine) -> None:
    data = engine.ask("prix de deepseek r1").to_json()
    assert set(data) == CONTRACT_KEYS
    assert isinstance(data["score"], float) and 0 <= data["score"] <= 100
    assert all({"value", "unit", "label"} <= set(f) for f in data["figures"])
    assert isinstance(data["source"], str)


def test_engine_ref_swaps_in_one_step(engine: Engine) -> None:
    ref = EngineRef(engine)
    other = Engine.from_knowledge(engine.kb)
    assert ref.swap(other) is engine and ref.current is other


def test_an_emoji_reaction_gets_a_friendly_word_and_an_empty_message_a_prompt(
    engine: Engine,
) -> None:
    assert engine.ask("👍").kind == "chitchat"
    assert engine.ask("🙏", lang_hint="en").body == engine.ask("thanks").body
    assert engine.ask("   ").kind == "prompt"
    assert engine.ask("?").kind == "prompt"


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("cinq virgule cinq milliards, c'est quoi ?", "ai_investment"),
        ("le boss des usa il a dit koi sur l'ia chinoise", "trump_wake_up_call"),
        ("Are Meta's bosses rethinking their AI spending?", "meta_llama"),
        ("les patrons de facebook doutent de leurs dépenses ?", "meta_llama"),
        ("how does deepseek proces training data", "training_strategy"),
        ("good day, how much is r1?", "r1_pricing"),
        ("sixty four point one billion dollars, what is that?", "ai_investment"),
        ("which op-ed does the article quote", "yuyuan_tantian"),
        ("who owns the yuyuan tantian account", "yuyuan_tantian"),  # what it is affiliated with
        ("where is deepseek based", "deepseek_overview"),  # Chinese; not R1's low price
        ("deepseek est basé où", "deepseek_overview"),
        ("is r1 a steal compared with o1", "r1_pricing"),  # a bargain, not a theft
        ("deepseek raised concerns in washington", "us_concern_reasons"),  # no fundraising
        ("which outlet reported the congress deepseek warning", "house_ban"),  # not Trump's
        # Whom Yuyuan Tantian draws on is the academy; the account quoted is Yuyuan Tantian.
        (
            "whose research does the yuyuan tantian commentary draw on",
            "china_academy_industrial_internet",
        ),
        ("sur quel organisme s'appuie Yuyuan Tantian ?", "china_academy_industrial_internet"),
        ("this yuyuan tantian outlet quoted in the article, who is it tied to?", "yuyuan_tantian"),
        ("who penned the commentary listing three reasons", "yuyuan_tantian"),
        ("organisme chinois étude citée par yuyuan tantian", "china_academy_industrial_internet"),
        ("what's china's ai investment total in dollars", "ai_investment"),  # an amount
        ("I run a small law practice: how much is R1 per million tokens?", "r1_pricing"),
        ("ça veut dire quoi le chiffre de 75 pour cent", "capability_gap"),  # that number
        ("2.2$ c quoi ce chiffre", "r1_pricing"),
        ("d'où viennent les chiffres de l'article ?", "china_academy_industrial_internet"),
        ("app store ranking deepseek vs chat gpt", "app_store_ranking"),  # ChatGPT
        ("whose commentary gives the three explanations for american unease", "yuyuan_tantian"),
        ("de quelle façon deepseek forme ses modèles d'ia", "training_strategy"),  # its method
        ("c koi deepseek en fait, g pas suivi", "deepseek_overview"),  # lost, and asking
        ("haha, how much is r1?", "r1_pricing"),
        ("who is really behind yuyuan tantian?", "yuyuan_tantian"),  # its author, not a gap
        ("la chine est-elle encore loin derrière en ia ?", "capability_gap"),  # a gap
        ("did my tech portfolio just get hammered by the chinese app", "tech_stocks_fall"),
        ("who published the commentary listing the three reasons", "yuyuan_tantian"),
        ("le modèle llama fait-il le poids face à deepseek ?", "meta_llama"),  # measures up
        # Idioms read as what they mean.
        ("why are americans losing sleep over deepseek", "us_concern_reasons"),
        ("did us tech names lose value because of this", "tech_stocks_fall"),
        ("which outlet broke the story about congress and deepseek", "house_ban"),
        ("is deepseek setting new benchmarks for efficiency", "ai_landscape"),
        ("is deepseek upending conventional ai business models", "ai_landscape"),
        ("deepseek kézako, j'ai raté un épisode", "deepseek_overview"),
        ("how much did open ai spend on gpt-4", "training_cost"),  # OpenAI, not open source
        ("tell me in plain words what deepseek does as a business", "deepseek_overview"),
        ("bro what is deepseek", "deepseek_overview"),
        # Servers and data centres are the computing power OpenAI relies on.
        ("does deepseek need gigantic data centres like the american labs", "training_strategy"),
        (
            "deepseek a besoin d'autant de serveurs qu'openai pour s'entraîner ?",
            "training_strategy",
        ),
    ],
)
def test_everyday_ways_of_naming_things_find_the_fact(
    engine: Engine, question: str, entry: str
) -> None:
    reply = engine.ask(question)
    assert (reply.answered, reply.entry) == (True, entry)


@pytest.mark.parametrize(
    "question",
    [
        "How much did GPT-4o cost to train?",  # another model than GPT-4
        "qui est le patron de deepseek ?",  # the boss of DeepSeek is not in the article
        "Give me Meta's exact dollar figure for developing Llama",  # no amount in the article
        "has China's president said anything about deepseek?",  # Xi, not Trump
        "how do I tie a tie?",  # not "tied to China Media Group"
    ],
)
def test_look_alike_questions_are_not_answered(engine: Engine, question: str) -> None:
    reply = engine.ask(question)
    assert not reply.answered and reply.entry is None


def test_a_verb_spelt_like_a_topic_word_does_not_pick_that_topic(engine: Engine) -> None:
    # "emploie" (uses) stems like "emploi" (job), which is the Meta entry's word.
    reply = engine.ask("Quelle méthode DeepSeek emploie-t-il pour entraîner ses IA ?")
    assert reply.entry in (None, "training_strategy")


def test_a_question_about_the_bot_is_never_a_fact(engine: Engine) -> None:
    for question in ["Do you have a name I can call you by?", "présente-toi un peu"]:
        reply = engine.ask(question)
        assert (reply.kind, reply.entry) == ("chitchat", None)
    assert engine.ask("is this an AI bubble?").kind != "chitchat"


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("De quoi parle l'article, en gros ?", "fr"),
        ("in a nutshell, what's the story this piece covers?", "en"),
        ("quel est le sujet principal de ce texte ?", "fr"),
        ("tl;dr of the story please, I'm in a hurry", "en"),
        ("what's this artcle about?", "en"),
        # The gist asked for, around words no fact uses.
        ("tldr de l'article ? j'ai la flemme de tout lire", "fr"),
        ("résume-moi vite fait le sujet de ce papier stp, j'ai pas le temps", "fr"),
        ("l'idée générale de l'article, vite fait ?", "fr"),
    ],
)
def test_what_the_article_is_about_gets_its_entry_and_summary(
    engine: Engine, question: str, lang: Lang
) -> None:
    reply = engine.ask(question)
    assert (reply.lang, reply.entry) == (lang, engine.kb.article.entry) and reply.answered
    assert engine.kb.article.summary.get(lang) in reply.text and reply.question == question


def test_the_article_without_an_entry_for_it_gets_its_summary_only(engine: Engine) -> None:
    kb = engine.kb.model_copy(
        update={"article": engine.kb.article.model_copy(update={"entry": None})}
    )
    reply = Engine.from_knowledge(kb).ask("what is the main topic of the article?")
    assert not reply.answered and engine.kb.article.summary.en in reply.text


def test_a_question_on_one_fact_of_the_article_is_not_about_the_article(engine: Engine) -> None:
    assert engine.ask("what does the article say about the house ban?").entry == "house_ban"
    assert engine.ask("résumé de l'article sur le prix de R1").entry == "r1_pricing"
