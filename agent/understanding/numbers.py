"""Numbers as people write them: digits with separators and suffixes, and number words in six languages.

"twenty", "a dozen", "fünf", "vingt-cinq", "dieciséis", "10k", "1.2M", "25,000" all mean a count. Number words
are turned into digits in the normalised text (see :func:`find_number_words`) so that one set of slot rules
reads "20 classes" and "twenty classes" alike. Words that are also ordinary English words in another language
("once" = 11 in Spanish, "sept", "elf") only count when the message is in that language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EN_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_EN_SCALE = {"hundred": 100, "thousand": 1000, "million": 1_000_000}

# Small numbers and tens per language (articles that double as "one" — ein, un, uno, um — are left out).
_FOREIGN: dict[str, dict[str, int]] = {
    "de": {
        "null": 0, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6,
        "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "zwoelf": 12,
        "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18,
        "neunzehn": 19, "zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50,
        "sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90, "hundert": 100, "tausend": 1000,
        "dutzend": 12,
    },
    "fr": {
        "zéro": 0, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
        "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
        "seize": 16, "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19, "vingt": 20, "trente": 30,
        "quarante": 40, "cinquante": 50, "soixante": 60, "soixante-dix": 70, "quatre-vingt": 80,
        "quatre-vingts": 80, "quatre-vingt-dix": 90, "cent": 100, "mille": 1000, "douzaine": 12,
    },
    "es": {
        "cero": 0, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
        "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
        "dieciséis": 16, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20,
        "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
        "noventa": 90, "cien": 100, "ciento": 100, "mil": 1000, "docena": 12,
    },
    "it": {
        "zero": 0, "due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8,
        "nove": 9, "dieci": 10, "undici": 11, "dodici": 12, "tredici": 13, "quattordici": 14,
        "quindici": 15, "sedici": 16, "diciassette": 17, "diciotto": 18, "diciannove": 19, "venti": 20,
        "trenta": 30, "quaranta": 40, "cinquanta": 50, "sessanta": 60, "settanta": 70, "ottanta": 80,
        "novanta": 90, "cento": 100, "mille": 1000, "dozzina": 12,
    },
    "pt": {
        "zero": 0, "dois": 2, "duas": 2, "três": 3, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6,
        "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13, "catorze": 14,
        "quatorze": 14, "quinze": 15, "dezesseis": 16, "dezasseis": 16, "dezessete": 17, "dezassete": 17,
        "dezoito": 18, "dezenove": 19, "dezanove": 19, "vinte": 20, "trinta": 30, "quarenta": 40,
        "cinquenta": 50, "sessenta": 60, "setenta": 70, "oitenta": 80, "noventa": 90, "cem": 100,
        "mil": 1000, "dúzia": 12,
    },
}  # fmt: skip

# Languages whose number words a short reply is read in when its own language cannot be told.
ANSWER_LANGUAGES = ("de", "fr", "es", "it", "pt")
# Foreign number words that are also common English words: never read as numbers in an English message.
_ENGLISH_LOOKALIKES = frozenset(
    {
        "once",
        "sept",
        "elf",
        "dos",
        "cent",
        "mil",
        "due",
        "sei",
        "nove",
        "null",
        "otto",
        "mille",
        "tre",
        "dez",
        "acht",
        "vier",
        "cem",
        "tres",
    }
)

_DE_UNITS = {
    "ein": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
}
_DE_COMPOUND = re.compile(
    r"^(ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun)und(zwanzig|dreißig|vierzig|fünfzig|sechzig|siebzig"
    r"|achtzig|neunzig)$"
)
_ES_VEINTI = {
    "veintiuno": 21, "veintiún": 21, "veintidós": 22, "veintidos": 22, "veintitrés": 23, "veintitres": 23,
    "veinticuatro": 24, "veinticinco": 25, "veintiséis": 26, "veintiseis": 26, "veintisiete": 27,
    "veintiocho": 28, "veintinueve": 29,
}  # fmt: skip

# A written number: "25,000", "1.2", "10k", "1.2M", "3 thousand" (the scale word is part of the match).
NUMBER = r"\d{1,3}(?:,\d{3})+(?![\d,])|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d.,])|\d+(?:\.\d+)?"
_SCALE_SUFFIX = re.compile(r"^\s*(k|m|mio|thousand|million|mil)\b", re.IGNORECASE)


def parse_number(literal: str) -> float:
    """The value of a written number such as ``25,000``, ``1.2M``, ``10k`` or ``3 thousand``."""
    text = literal.strip().lower().replace("~", "")
    match = re.match(rf"({NUMBER})\s*(k|m|mio|thousand|million|mil)?$", text)
    if not match:
        raise ValueError(f"not a number: {literal!r}")
    value = float(re.sub(r"[,\s]", "", match.group(1)))
    scale = match.group(2)
    if scale in {"k", "thousand", "mil"}:
        value *= 1000
    elif scale in {"m", "mio", "million"}:
        value *= 1_000_000
    return value


def _foreign_word(word: str, languages: Iterable[str]) -> int | None:
    languages = list(languages)
    if len(languages) > 1 and word in _ENGLISH_LOOKALIKES:
        return None  # several candidate languages means the message's own language is unknown
    for language in languages:
        table = _FOREIGN.get(language, {})
        if word in table:
            return table[word]
        if language == "de":
            compound = _DE_COMPOUND.match(word)
            if compound:
                return _DE_UNITS[compound.group(1)] + _FOREIGN["de"][compound.group(2)]
        if language == "es" and word in _ES_VEINTI:
            return _ES_VEINTI[word]
        if language == "fr" and "-" in word:
            # vingt-cinq, trente-deux, soixante-et-onze
            head, _, tail = word.partition("-")
            tail = tail.removeprefix("et-")
            if head in _FOREIGN["fr"] and tail in _FOREIGN["fr"] and _FOREIGN["fr"][head] % 10 == 0:
                return _FOREIGN["fr"][head] + _FOREIGN["fr"][tail]
    return None


_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
# Any English number word at all (a quick test before the word-by-word reading).
_ANY_ENGLISH = re.compile(
    r"\b(?:" + "|".join(sorted({*_EN_SMALL, *_EN_TENS, *_EN_SCALE, "dozen"}, key=len, reverse=True)) + r")",
)


def find_number_words(text: str, languages: Iterable[str] = ()) -> list[tuple[int, int, int]]:
    """``(start, end, value)`` of every number written in words in a lower-cased text.

    English phrases are read whole ("two hundred and fifty", "twenty-five", "a dozen"); other languages' words
    are read one at a time, plus their compounds ("fünfundzwanzig", "vingt-cinq", "veinticinco", "treinta y
    cinco"). ``languages`` says which non-English tables apply.
    """
    langs = [lang for lang in languages if lang != "en"]
    if not langs and not _ANY_ENGLISH.search(text):
        return []
    tokens = list(_TOKEN.finditer(text))
    found: list[tuple[int, int, int]] = []
    index = 0
    while index < len(tokens):
        phrase = _english_phrase(text, tokens, index)
        if phrase:
            end_index, value = phrase
            found.append((tokens[index].start(), tokens[end_index].end(), value))
            index = end_index + 1
            continue
        word = tokens[index].group()
        foreign = _foreign_word(word, langs) if langs else None
        if foreign is not None:
            value = foreign
            end = tokens[index].end()
            # "treinta y cinco", "vinte e cinco", "vingt et un"
            if (
                value % 10 == 0
                and 20 <= value <= 90
                and index + 2 < len(tokens)
                and tokens[index + 1].group() in {"y", "e", "et"}
                and _gap_is_space(text, tokens[index].end(), tokens[index + 2].start(), 3)
            ):
                unit = _foreign_word(tokens[index + 2].group(), langs)
                if unit is not None and 1 <= unit <= 9:
                    found.append((tokens[index].start(), tokens[index + 2].end(), value + unit))
                    index += 3
                    continue
            found.append((tokens[index].start(), end, value))
        index += 1
    return found


def _gap_is_space(text: str, start: int, end: int, limit: int = 2) -> bool:
    gap = text[start:end]
    return len(gap) <= limit + 4 and (gap.strip() == "" or gap.strip() in {"y", "e", "et", "and"})


def _english_value(word: str) -> tuple[str, int] | None:
    if word in _EN_SMALL:
        return "small", _EN_SMALL[word]
    if word in _EN_TENS:
        return "tens", _EN_TENS[word]
    if "-" in word:
        head, _, tail = word.partition("-")
        if head in _EN_TENS and tail in _EN_SMALL and 1 <= _EN_SMALL[tail] <= 9:
            return "tens", _EN_TENS[head] + _EN_SMALL[tail]
    if word in _EN_SCALE:
        return "scale", _EN_SCALE[word]
    if word == "dozen":
        return "dozen", 12
    return None


def _english_phrase(text: str, tokens: list[re.Match[str]], index: int) -> tuple[int, int] | None:
    """Read an English number phrase starting at ``tokens[index]``: (last token index, value)."""
    first = tokens[index].group()
    total, current = 0, 0
    last = -1
    position = index
    if first in {"a", "an"}:
        # "a dozen", "a hundred", "a thousand" (but not "a" alone)
        if index + 1 < len(tokens) and tokens[index + 1].group() in {
            "dozen",
            "hundred",
            "thousand",
            "million",
        }:
            current = 1
            position = index + 1
        else:
            return None
    while position < len(tokens):
        if position > index and not _gap_is_space(text, tokens[position - 1].end(), tokens[position].start()):
            break
        word = tokens[position].group()
        if word == "and" and last >= 0 and position + 1 < len(tokens):
            nxt = _english_value(tokens[position + 1].group())
            if nxt and nxt[0] in {"small", "tens"} and (total or current) >= 100:
                position += 1
                continue
            break
        parsed = _english_value(word)
        if parsed is None:
            break
        kind, value = parsed
        if kind == "small":
            if last >= 0 and current % 100 and not (current % 10 == 0 and current % 100 >= 20 and value < 10):
                break
            current += value
        elif kind == "tens":
            if last >= 0 and current % 100:
                break
            current += value
        elif kind == "dozen":
            current = (current or 1) * 12
        else:  # hundred / thousand / million
            if last < 0 and current == 0:
                break  # "hundred" alone is not a count here
            current = (current or 1) * value
            if value >= 1000:
                total += current
                current = 0
        last = position
        position += 1
    if last < 0:
        return None
    return last, total + current
