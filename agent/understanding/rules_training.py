"""Rules for training hyper-parameters: learning rate, batch size, epochs/steps, warm-up, freezing, patience."""

from __future__ import annotations

import re

from agent.understanding.reader import Reader, num, value_of
from agent.understanding.text import wordset

_SCI = r"(?P<n>\d+(?:\.\d+)?e-?\d+|\d*\.\d+|\d+)"


_LR = re.compile(
    rf"(?:\blr\b|learning[- _]rate|\blearning_rate\b|base[_ ]lr|max[_ ]lr|initial lr)\s*(?:of|=|:|is|to|at|"
    rf"around|about|~|should be|set to|=\s*)?\s*(?:of\s+)?(?:around\s+|about\s+|~\s*)?{_SCI}(?![\w.])"
)


_SCI_ALONE = re.compile(r"(?<![\w.=])(?P<n>\d+(?:\.\d+)?e-\d+)(?![\w.])")


_NOT_LR = wordset("wd weight decay eps epsilon momentum smoothing dropout threshold tolerance min_delta delta clip beta")  # fmt: skip


def read_learning_rate(r: Reader) -> None:
    if not r.has_digit or not r.mentions("lr", "learning", "e-"):
        return
    for match in r.finditer(_LR):
        value = float(match.group("n"))
        if 0 < value < 1:
            r.put("learning_rate", value, *match.span("n"), "lr_keyword")
    for match in r.finditer(_SCI_ALONE):
        before = set(r.words_before(match.start(), 3))
        if before & _NOT_LR or "weight_decay" in r.text[max(0, match.start() - 20) : match.start()]:
            r.claim(*match.span())
            continue
        value = float(match.group("n"))
        if 0 < value < 1:
            r.put("learning_rate", value, *match.span("n"), "scientific_notation")


_BATCH = [
    re.compile(
        rf"(?:batch[ _-]?size|\bbs\b|mini-?batch(?: size)?)\s*(?:of|=|:|is|to|at|around|about)?\s*{num()}"
    ),
    re.compile(rf"\bbatch(?:es)? of\s*{num()}"),
    re.compile(rf"{num()}\s*(?:images?\s+|samples?\s+)?per (?:batch|step|iteration)\b"),
    re.compile(rf"{num()}\s+(?:as (?:the )?)?batch[ _-]?size\b"),
]


_DURATION_UNITS = {
    "epochs": "epochs", "epoch": "epochs", "steps": "steps", "step": "steps", "iterations": "steps",
    "iteration": "steps", "iters": "steps", "iter": "steps", "batches": "steps", "updates": "steps",
    "schritte": "steps", "epochen": "epochs", "étapes": "steps", "époques": "epochs", "pasos": "steps",
    "épocas": "epochs", "passi": "steps", "epoche": "epochs", "passos": "steps",
}  # fmt: skip


_DURATION = re.compile(
    rf"{num()}\s*(?:more\s+|training\s+|train\s+|optimi[sz]er\s+|gradient\s+|(?P<warm>warm-?up\s+))?"
    rf"(?P<unit>{'|'.join(sorted(_DURATION_UNITS, key=len, reverse=True))})\b(?P<of_warm>\s+of\s+warm-?up)?"
)


_DURATION_KEY = re.compile(
    rf"(?P<key>max_epochs|num_epochs|n_epochs|epochs|max_steps|num_steps|steps|max_iters|iterations|warmup_steps"
    rf"|warmup_epochs|patience)\s*(?:=|:|of|to)\s*{num()}"
)


_PATIENCE = re.compile(rf"patience\s*(?:of|=|:|is|to)?\s*{num()}")


def read_hyperparameters(r: Reader) -> None:
    if not r.has_digit:
        return
    for pattern in _BATCH:
        for match in r.finditer(pattern):
            size = int(value_of(match))
            if 1 <= size <= 65536:
                r.put("batch_size", size, *match.span(), "batch")
    for match in r.finditer(_PATIENCE):
        r.put("patience", int(value_of(match)), *match.span(), "patience")
    for match in r.finditer(_DURATION_KEY):
        key = match.group("key")
        slot = {"max_epochs": "epochs", "num_epochs": "epochs", "n_epochs": "epochs", "max_steps": "steps",
                "num_steps": "steps", "max_iters": "steps", "iterations": "steps"}.get(key, key)  # fmt: skip
        r.put(slot, int(value_of(match)), *match.span(), "keyword")
    for match in r.finditer(_DURATION):
        count = value_of(match)
        if count != int(count) or count < 1:
            continue
        unit = _DURATION_UNITS[match.group("unit")]
        context = " ".join(r.words_before(match.start(), 6))
        following = " ".join(r.words_after(match.end(), 3))
        if unit == "epochs" and re.search(r"^(?:without|with no|of no) improv|^no improv", following):
            r.put("patience", int(count), *match.span(), "epochs_without_improvement")
            continue
        if match.group("warm") or match.group("of_warm") or re.search(r"warm-?\s?up", context):
            slot = f"warmup_{unit}"
        elif re.search(r"freez|frozen|unfreez", context):
            slot = "freeze_epochs" if unit == "epochs" else "steps"
        elif re.search(r"\bpatience\b|\bno improvement\b|\bwithout improv", context) and unit == "epochs":
            slot = "patience"
        elif re.search(r"\bevery\b|\beach\b|\bafter\b", context):
            r.claim(*match.span())
            continue  # "validate every 2 epochs" is a schedule, not the run length
        else:
            slot = unit
        r.put(slot, int(count), *match.span(), "duration")
