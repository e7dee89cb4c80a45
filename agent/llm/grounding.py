"""Is a model-written sentence backed by what the tools returned? (Small models invent runs and numbers.)

Measured with SmolLM2-135M: told only to summarise, it still wrote "the experiments I conducted", accuracies
no run produced, and code nobody generated. A sentence is unsupported when it claims a run or experiment and
no smoke run happened this turn, quotes a number that appears in none of the sources (user message, tool
results, knowledge entries), or shows code that is not in them. The compose mode drops such sentences (and
what follows them) and keeps the tools' own answer; ``bench/llm_bench.py`` counts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

RUN_TOOLS = frozenset({"smoke_run"})

_RUN_CLAIM = re.compile(
    r"\b(?:I|we)(?:'ve| have| had)?\s+(?:just\s+|already\s+|also\s+)?(?:ran|run|trained|conducted|executed|"
    r"tested|measured|benchmarked|evaluated|fine-?tuned|achieved|observed|obtained|reached|deployed)\b"
    r"|\b(?:experiments?|tests?|runs?|trials?)\s+(?:that\s+)?(?:I|we)\s+(?:ran|did|conducted|performed|made)\b"
    r"|\b(?:my|our)\s+(?:own\s+)?(?:experiments?|tests?|runs?|trials?|benchmarks?|training)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s*(%|percent)?")
_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n{2,}|\n(?=[-*#\d])")


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def split_sentences(text: str) -> list[str]:
    """Sentences (and list items) of a reply, each with its trailing space kept out."""
    return [part for part in SENTENCE_END.split(text) if part.strip()]


def unsupported_claim(text: str, sources: str, tools_run: Iterable[str]) -> str | None:
    """Why ``text`` states something no source supports, or None when it does not."""
    ran = set(tools_run)
    if not ran & RUN_TOOLS:
        claim = _RUN_CLAIM.search(text)
        if claim:
            return f"claims a run or experiment ({claim.group(0)!r}) but no smoke run happened"
    source = _normalise(sources)
    for block in _FENCE.findall(text):
        if block.strip() and _normalise(block) not in source:
            return "shows code that no tool produced"
    for match in _NUMBER.finditer(text):
        number, percent = match.group(1), match.group(2)
        value = float(number.replace(",", "."))
        if not percent and value <= 10 and "." not in number and "," not in number:
            continue  # counts and list markers
        if not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", source):
            return f"quotes {number}{'%' if percent else ''}, which no tool result or source contains"
    return None


def grounded_prefix(text: str, sources: str, tools_run: Iterable[str]) -> tuple[str, str | None]:
    """The longest run of supported sentences from the start of ``text``, and why the rest was cut."""
    kept: list[str] = []
    position = 0
    for sentence in split_sentences(text):
        reason = unsupported_claim(sentence, sources, tools_run)
        if reason:
            return text[:position].rstrip(), reason
        kept.append(sentence)
        position = text.find(sentence, position) + len(sentence)
    return text.rstrip(), None
