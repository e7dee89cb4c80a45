"""Text plumbing for the understanding layer: code masking and a normalised view that maps back to the message.

Every slot keeps the span of the user's own words it came from, so that a conflict ("you said 224 here and
512 there") can be explained by quoting the message. The rules run on a normalised copy (lower case, typos
corrected, number words turned into digits) and :class:`MappedText` translates positions in that copy back to
positions in the original message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A fenced block (``` or ~~~, closed or running to the end) or an indented block of 4+ spaces / a tab after a
# blank line or at the start: the places where users paste code that prose rules must not read.
_FENCE = re.compile(r"(```|~~~)[^\n]*\n.*?(?:\1|\Z)", re.DOTALL)
_INDENTED = re.compile(r"(?:^|(?<=\n\n))(?:(?: {4,}|\t)[^\n]*(?:\n|\Z))+")


@dataclass(frozen=True)
class Span:
    """Where in the user's message a slot was read: character offsets and the text itself."""

    start: int
    end: int
    text: str


def code_regions(text: str) -> list[tuple[int, int]]:
    """Character ranges of fenced and indented code blocks, in order."""
    regions = [(m.start(), m.end()) for m in _FENCE.finditer(text)]
    for match in _INDENTED.finditer(text):
        if not any(start <= match.start() < end for start, end in regions):
            regions.append((match.start(), match.end()))
    return sorted(regions)


def mask_code(text: str) -> str:
    """The message with its code blocks blanked out (same length, so offsets stay valid)."""
    regions = code_regions(text)
    if not regions:
        return text
    chars = list(text)
    for start, end in regions:
        for index in range(start, end):
            if chars[index] != "\n":
                chars[index] = " "
    return "".join(chars)


class MappedText:
    """A rewritten copy of a message that remembers, for every character, where it came from.

    Built left to right from pieces: ``keep`` copies original characters one to one, ``replace`` writes new
    text that stands for an original range (a corrected word, digits for "twenty"). ``span`` maps a range of
    the copy back to the smallest original range covering it.
    """

    def __init__(self, original: str) -> None:
        self.original = original
        self._parts: list[str] = []
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._text: str | None = None

    def keep(self, start: int, end: int, text: str | None = None) -> None:
        """Copy ``original[start:end]`` (or a same-length rewrite of it, e.g. lower-cased)."""
        piece = self.original[start:end] if text is None else text
        self._parts.append(piece)
        self._starts.extend(range(start, end))
        self._ends.extend(range(start + 1, end + 1))
        self._text = None

    def replace(self, start: int, end: int, text: str) -> None:
        """Write ``text`` in place of ``original[start:end]``; all of it maps to that whole range."""
        self._parts.append(text)
        self._starts.extend([start] * len(text))
        self._ends.extend([end] * len(text))
        self._text = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = "".join(self._parts)
        return self._text

    def span(self, start: int, end: int) -> Span:
        """The original span behind ``text[start:end]``."""
        if not self._starts:
            return Span(0, 0, "")
        start = min(max(start, 0), len(self._starts) - 1)
        end = min(max(end, start + 1), len(self._ends))
        ostart, oend = self._starts[start], self._ends[end - 1]
        return Span(ostart, oend, self.original[ostart:oend])


def wordset(text: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (long vocabularies stay readable)."""
    return frozenset(text.split())
