"""Turn a question ("is bf16 faster here?", "which LR is better, 1e-3 or 3e-4?") into the A/B arms to run."""

from __future__ import annotations

import re

from tools.abtest.models import Variant

_PRECISION = re.compile(r"\b(bf16|bfloat16|fp16|float16|half precision|mixed precision)\b", re.IGNORECASE)
_LR_PAIR = re.compile(
    r"\b(?:lr|learning[- ]rate)s?\b[^0-9]*?(\d+(?:\.\d+)?(?:e-?\d+)?)\s*(?:,|or|vs\.?|versus|and)\s*"
    r"(\d+(?:\.\d+)?(?:e-?\d+)?)",
    re.IGNORECASE,
)
_LR_PAIR_AFTER = re.compile(
    r"(\d+(?:\.\d+)?(?:e-?\d+)?)\s*(?:or|vs\.?|versus)\s*(\d+(?:\.\d+)?(?:e-?\d+)?)[^.?!]*\b(?:lr|learning[- ]rate)\b",
    re.IGNORECASE,
)


def variants_from_question(text: str) -> list[Variant] | None:
    """The arms a question asks for (baseline first), or None when it names nothing measurable here."""
    lr = _LR_PAIR.search(text) or _LR_PAIR_AFTER.search(text)
    if lr:
        a, b = lr.group(1), lr.group(2)
        return [
            Variant(name=f"lr={a}", instruction=f"set the learning rate to {a}"),
            Variant(name=f"lr={b}", instruction=f"set the learning rate to {b}"),
        ]
    precision = _PRECISION.search(text)
    if precision:
        word = precision.group(1).lower()
        if word in ("fp16", "float16", "half precision"):
            return [Variant(name="fp32"), Variant(name="fp16", precision="16-mixed")]
        return [Variant(name="fp32"), Variant(name="bf16", precision="bf16-mixed")]
    return None
