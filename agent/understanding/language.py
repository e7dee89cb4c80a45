"""Which language a message is in, and which core request it makes, without a model.

Six languages (en, de, fr, es, it, pt) are told apart by counting their most frequent function words and a few
letters only they use; that is reliable on a sentence and cheap (microseconds). ``core_intent_hints`` maps the
verbs people use for the agent's main jobs, in those languages, to intent names, so that "Kannst du meinen Code
prüfen?" is understood as a review request even though every other rule is written for English.
"""

from __future__ import annotations

import re
import unicodedata

from agent.understanding.text import wordset

LANGUAGES = ("en", "de", "fr", "es", "it", "pt")

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": wordset(
        "the a an and or of to in on for with is are was be this that my your it i you we can please "
        "what which how should would could do does me have has from at by not"
    ),
    "de": wordset(
        "der die das und oder ein eine einen einem meinen meine mein ist sind nicht ich du wir sie mit für "
        "von zu auf bitte kannst können kann wie welche welches was mir mich dem den des auch noch im "
        "schreib erstelle soll sollte habe hast bei es"
    ),
    "fr": wordset(
        "le la les un une des et ou est sont pas je tu nous vous avec pour de du dans sur mon ma mes "
        "ton ta peux pouvez quel quelle quels comment svp merci ce cette qui que mon moi j'ai"
    ),
    "es": wordset(
        "el la los las un una unos unas y o es son no yo tú nosotros con para de del en mi mis tu "
        "puedes puede qué cuál cuáles cómo por favor este esta que me tengo hay"
    ),
    "it": wordset(
        "il lo la gli le un una uno e o è sono non io tu noi con per di del della nel mio mia miei "
        "puoi può quale quali come per favore questo questa che mi ho ci"
    ),
    "pt": wordset(
        "o a os as um uma uns umas e ou é são não eu tu nós com para de do da dos das no na meu minha "
        "meus pode podes qual quais como por favor este esta que me tenho há"
    ),
}
# Domain words whose spelling gives the language away ("clases" is Spanish, "Klassen" German).
_CONTENT: dict[str, frozenset[str]] = {
    "de": wordset("klassen klasse klassifikator modell bilder daten erkennung schritte epochen"),
    "fr": wordset("classifieur modèle détecteur données entraîne entraîner étapes époques fais"),
    "es": wordset("clases clasificador modelo imágenes código datos detector entrena pasos épocas"),
    "it": wordset("classi classificatore modello immagini codice dati rilevatore addestra passi epoche"),
    "pt": wordset("classificador modelo imagens código dados detector treina passos épocas"),
}
# Letters (or letter pairs) that point at one language.
_MARKERS: dict[str, tuple[str, ...]] = {
    "de": ("ß", "ä", "ö", "ü"),
    "fr": ("ç", "è", "ê", "à", "œ", "î", "û"),
    "es": ("ñ", "¿", "¡", "ó", "í"),
    "it": ("ò", "ì"),
    "pt": ("ã", "õ", "ção", "ções"),
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def language_scores(text: str) -> dict[str, float]:
    """A score per language: function-word hits plus marker letters (higher is more likely)."""
    lowered = text.lower()
    tokens = _WORD.findall(lowered)
    scores = {lang: 0.0 for lang in LANGUAGES}
    for token in tokens:
        for lang in LANGUAGES:
            if token in _STOPWORDS[lang]:
                scores[lang] += 1.0
            if lang in _CONTENT and token in _CONTENT[lang]:
                scores[lang] += 1.0
    for lang, markers in _MARKERS.items():
        scores[lang] += 0.75 * sum(lowered.count(marker) for marker in markers)
    return scores


def detect_language(text: str) -> str:
    """The message's language as an ISO 639-1 code among en/de/fr/es/it/pt; English when unclear."""
    scores = language_scores(text)
    best = max(LANGUAGES, key=lambda lang: (scores[lang], lang == "en"))
    if scores[best] <= scores["en"] or scores[best] < 1.0:
        return "en"
    return best


# Intent -> stems of the verbs and nouns that ask for it, per language (accents folded, lower case).
_INTENT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "review": (
        # en
        "review", "check my", "check the code", "check this", "audit", "critique", "look over", "whats wrong",
        "what's wrong", "any bugs", "any issues",
        # de
        "pruf", "uberprufe", "durchsehen", "anschauen", "begutacht", "code review", "fehler finden",
        # fr
        "verifi", "relire", "relis", "examiner", "revue de code", "revoir",
        # es
        "revisa", "revisar", "revision", "comprobar", "comproba", "chequea",
        # it
        "controlla", "verifica", "rivedere", "rivedi", "revisiona",
        # pt
        "verificar", "verifique", "revise", "revisao", "checar", "confira",
    ),
    "generate": (
        "generate", "scaffold", "write me", "write a", "create a", "build a", "set up a", "bootstrap",
        "give me a",
        "erstell", "generier", "schreib", "baue", "bau mir", "mach mir",
        "gener", "cree", "creer", "ecri", "fais-moi", "fais moi",
        "genera", "crea", "escrib", "construy", "hazme",
        "scrivi", "costruisci", "fammi",
        "gere", "gerar", "criar", "crie", "escreva", "escrever", "faca", "gera o ", "gera um",
    ),
    "recommend": (
        "recommend", "suggest", "which model", "which architecture", "which backbone", "what model",
        "what architecture", "should i use", "best model", "best architecture",
        "empfehl", "empfiehl", "welches modell", "welche architektur", "vorschlag",
        "recommand", "conseill", "quel modele", "quelle architecture", "suggere",
        "recomiend", "recomenda", "que modelo", "cual modelo", "que arquitectura", "sugier",
        "consiglia", "raccomand", "quale modello", "suggerisci",
        "recomend", "qual modelo", "sugira", "sugere",
    ),
    "smoke_run": (
        "smoke", "train it", "does it train", "test run", "try training", "run it",
        "trainier", "trainiere", "testlauf", "ausfuhr",
        "entrain", "lancer l'entrainement", "tester l'entrainement",
        "entrena", "entrenar", "ejecuta",
        "addestra", "allena", "esegui",
        "treina", "treinar", "execute", "rodar",
    ),
    "fix": (
        "fix", "auto-fix", "apply the fixes", "korrigier", "behebe", "reparier", "corrige", "corriger",
        "repare", "corregir", "arregla", "correggi", "corregger", "sistema", "conserta", "corrija", "corrigir",
    ),
    "explain": (
        "explain", "what is", "what does", "erklar", "was ist", "explique", "expliquer", "qu'est-ce",
        "explica", "que es", "spiega", "cos'e", "o que e",
    ),
    "export": ("export", "onnx", "exportier", "exporter", "exporta", "exportar"),
    "compare": ("compare", " vs ", "versus", "vergleich", "compar", "confront"),
}  # fmt: skip


def _fold(text: str) -> str:
    """Lower case without accents ("prüfen" -> "prufen"), so one stem covers spellings with and without them."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ß", "ss")


def core_intent_hints(text: str) -> list[str]:
    """Intent names the message's wording points at, first mention first (any of the six languages).

    Typos in domain words are corrected first ("reveiw", "genrate"). These are hints for the planner to weigh
    with its other evidence, not a decision: "review" and "generate" may both appear.
    """
    from agent.understanding.fuzzy import normalise
    from agent.understanding.text import mask_code

    prose = mask_code(text)[:8000]
    folded = " " + _fold(prose) + " " + _fold(normalise(prose)) + " "
    positions: list[tuple[int, str]] = []
    for intent, stems in _INTENT_KEYWORDS.items():
        first = -1
        for stem in stems:
            index = _find_word_start(folded, stem)
            if index >= 0 and (first < 0 or index < first):
                first = index
        if first >= 0:
            positions.append((first, intent))
    return [intent for _, intent in sorted(positions)]


# Words a stem starts but that do not ask for the intent ("gener" is in "general", "crea" in "creature").
_FALSE_FRIENDS = wordset(
    """general generally generals generic generics generous generosity generality creature creatures cream
    creamy crease execute executed executes execution executive sistematic revised revisited checkpoint
    checkpoints checked verifiable controller controllers fixture fixtures fixed"""
)


def _find_word_start(text: str, stem: str) -> int:
    """Index of ``stem`` where it starts a word (so "gener" does not fire inside "regenerate" or "general")."""
    start = 0
    while True:
        index = text.find(stem, start)
        if index < 0:
            return -1
        if stem[0] == " " or not text[index - 1].isalnum():
            end = index
            while end < len(text) and (text[end].isalnum() or text[end] in "'-"):
                end += 1
            if text[index:end].strip(" '-") not in _FALSE_FRIENDS:
                return index
        start = index + 1
