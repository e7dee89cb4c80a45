"""One parse in progress: the normalised text, which characters rules have used, and the slots filled so far.

Rule modules (``rules_*.py``) are functions of a :class:`Reader`; they share the number fragment :func:`num`
so that every rule agrees on what a standalone number is (not "resnet50", not "top-5", not "3.11.2").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from agent.understanding import numbers
from agent.understanding.fuzzy import find_corrections
from agent.understanding.language import detect_language
from agent.understanding.slot_types import Conflict, Found, Slots
from agent.understanding.text import MappedText, mask_code, wordset


def _lower_same_length(text: str) -> str:
    lowered = "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)
    return lowered.replace("\u00d7", "x").replace("\u2019", "'")  # multiplication sign, curly apostrophe


def normalised_view(text: str, language: str, number_languages: Sequence[str] | None = None) -> MappedText:
    """The message as the rules read it: code blanked, lower case, typos fixed, number words as digits.

    Number words are read in English and in ``language``; ``number_languages`` overrides the second part
    (a one-word reply such as "zwanzig" carries no language of its own).
    """
    masked = mask_code(text)
    lowered = _lower_same_length(masked)
    if number_languages is not None:
        languages = list(number_languages)
    else:
        languages = [language] if language != "en" else []
    replacements: list[tuple[int, int, str]] = [
        (start, end, str(value)) for start, end, value in numbers.find_number_words(lowered, languages)
    ]
    taken = [(start, end) for start, end, _ in replacements]
    if language == "en":
        for fix in find_corrections(masked):
            if not any(start < fix.end and fix.start < end for start, end in taken):
                replacements.append((fix.start, fix.end, fix.corrected.lower()))
    replacements.sort()
    mapped = MappedText(text)
    position = 0
    for start, end, new in replacements:
        if start > position:
            mapped.keep(position, start, lowered[position:start])
        mapped.replace(start, end, new)
        position = end
    if position < len(text):
        mapped.keep(position, len(text), lowered[position:])
    return mapped


# A number standing on its own: not glued to letters before it ("resnet50", "top-5", "v8"), not part of a
# dotted version ("3.11.2"), optionally with a scale ("10k", "1.2m", "3 thousand").
_N = r"{name}(?:\s?(?P<{scale}>k|m|mio|thousand|million)\b|(?![\w]|\.\d))"


# The first digit comes first and the "standalone" checks look behind it, so that the regex engine can skip
# ahead to digits instead of trying the look-behinds at every position (5x faster on a paragraph).
_NUM = (
    r"(?P<{n}>\d(?<![\w.,]\d)(?<![a-z]-\d)(?<!top \d)"
    r"(?:\d{{0,2}}(?:,\d{{3}})+(?!\d)|\d{{0,2}}(?:[ \u00a0\u202f]\d{{3}})+(?![\d.,])|\d*(?:\.\d+)?))"
)


def num(name: str = "n", *, glued: bool = False) -> str:
    """A regex fragment for one standalone number captured as ``name`` (scale suffix in ``name_s``).

    ``glued`` allows a letter right after the number, for patterns that continue with one ("2x A100").
    """
    pattern = _N.format(name=_NUM.format(n=name), scale=f"{name}_s")
    return pattern.replace(r"|(?![\w]|\.\d))", r"|(?!\.\d))") if glued else pattern


def value_of(match: re.Match[str], name: str = "n") -> float:
    groups = match.groupdict()
    literal = groups[name]
    scale = groups.get(f"{name}_s") or ""
    return numbers.parse_number(f"{literal}{scale}")


# Words that break "N <words> classes" (the number counts something else).
NOT_BETWEEN = wordset("""images image photos photo pictures samples examples frames per with of in from for and or to by on at
    gpus gpu epochs epoch steps px pixels pixel layers channels bits years people persons
    instances crops videos scans""")


class Reader:
    """One parse: the normalised text, what has been claimed, and the slots being filled."""

    def __init__(self, text: str, number_languages: Sequence[str] | None = None) -> None:
        self.original = text
        self.language = detect_language(mask_code(text))
        self.view = normalised_view(text, self.language, number_languages)
        self.text = self.view.text
        self._claimed = bytearray(len(self.text))  # 1 where a rule has used the character
        self.slots = Slots(language=self.language)
        self.has_digit = any(ch.isdigit() for ch in self.text)

    def mentions(self, *needles: str) -> bool:
        """Cheap guard before a rule's regexes: does the text contain any of these substrings at all?"""
        return any(needle in self.text for needle in needles)

    # -- bookkeeping ------------------------------------------------------------------------------------
    def is_claimed(self, start: int, end: int) -> bool:
        return self._claimed.find(1, start, max(end, start + 1)) >= 0

    def claim(self, start: int, end: int) -> None:
        self._claimed[start:end] = b"\x01" * (end - start)

    def put(self, slot: str, value: Any, start: int, end: int, rule: str, *, claim: bool = True) -> bool:
        """Fill ``slot`` (first value wins; a different later value is a conflict). Returns True if new."""
        found = Found(value, self.view.span(start, end), rule)
        current = getattr(self.slots, slot)
        if claim:
            self.claim(start, end)
        if current is None:
            setattr(self.slots, slot, found)
            return True
        if current.value != value and current.span != found.span:
            self.slots.conflicts.append(Conflict(slot, current, found))
        return False

    def finditer(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        for match in pattern.finditer(self.text):
            number = match.groupdict().get("n")
            if not self.is_claimed(*(match.span("n") if number is not None else match.span())):
                yield match

    def words_before(self, index: int, count: int) -> list[str]:
        clause = re.split(r"[.;!?\n]|,\s", self.text[max(0, index - 160) : index])[-1]
        return re.findall(r"[a-z][a-z'-]*", clause)[-count:]

    def words_after(self, index: int, count: int) -> list[str]:
        clause = re.split(r"[.;!?\n]|,\s", self.text[index : index + 160])[0]
        return re.findall(r"[a-z][a-z'-]*", clause)[:count]
