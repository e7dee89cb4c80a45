"""The values a message states (task, classes, sizes) and answers to the agent's questions, for the tracker."""

from __future__ import annotations

import re
from typing import Any

from agent.llm.intents import extract_generate_args

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a dozen": 12, "dozen": 12,
}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.])(\d{1,6})(?![\w.]|\s*(?:px|pixels?|x\s*\d|%))", re.IGNORECASE)


_MULTI_LABEL = re.compile(
    r"multi[- ]?label|several (?:tags|labels|classes|attributes)|multiple (?:tags|labels|classes) (?:per|for each|on)"
    r"|more than one (?:tag|label|class)|can have (?:several|multiple|many|more than one)",
    re.IGNORECASE,
)
_TAG_COUNT = re.compile(r"\b(\d{1,5})\s+(?:\w+\s+)?(?:tags|attributes|attribute tags)\b", re.IGNORECASE)


def message_slots(prose: str) -> dict[str, Any]:
    """Spec values stated in a message (code removed)."""
    slots = extract_generate_args(prose)
    if _MULTI_LABEL.search(prose):
        slots["multi_label"] = True
        slots.setdefault("task", "classification")
    tags = _TAG_COUNT.search(prose)
    if tags and "num_classes" not in slots:
        slots["num_classes"] = int(tags.group(1))
    return slots


def parse_answer(prose: str, slot: str) -> Any:
    """The value of ``slot`` in a reply to the agent's question ("20", "twenty", "with 20 classes"), or None."""
    stated = message_slots(prose).get(slot)
    if stated is not None:
        return stated
    if slot not in {"num_classes", "image_size", "num_keypoints"}:
        return None
    text = prose.strip().lower()
    match = _NUMBER.search(text)
    if match:
        return int(match.group(1))
    for word, value in sorted(_WORDS.items(), key=lambda item: -len(item[0])):
        if re.search(rf"\b{word}\b", text):
            return value
    return None
