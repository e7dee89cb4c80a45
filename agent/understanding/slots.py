"""The slot parser: counts, sizes, ranges, units and names an ML practitioner writes in a chat message.

``parse_slots("1024x1024 images, ~800 labelled, 3 defect classes, on 2x A100 in bf16")`` fills image size,
dataset size, number of classes, GPUs and precision, each with the span of the message it was read from.

How it works, so that a newcomer can follow a wrong answer back to its rule:

1. Code blocks are blanked out (same length, offsets stay valid); pasted code never fills a slot.
2. A normalised copy is made (:class:`~agent.understanding.text.MappedText`): lower case, domain typos
   corrected ("classs" -> "classes"), number words turned into digits ("twenty" -> "20", "a dozen" -> "12").
3. Rules run in a fixed order over that copy. Each rule *claims* the characters it used, and later rules skip
   claimed numbers: "resnet50", "2x A100", "224x224", "fp16", "8-15 px" are read by their own rule first, so
   their digits can never become a number of classes or a dataset size.
4. The first value found for a slot is kept; a different value for the same slot elsewhere in the message is
   recorded in ``Slots.conflicts`` with both spans, so the agent can ask which one was meant.

Where things are: result types in ``slot_types.py``, the normalised view and number fragment in
``reader.py``, the rules by topic in ``rules_labels.py`` (ids, models, task, classes, multi-label,
regression), ``rules_images.py`` (sizes, data set, keypoints), ``rules_hardware.py`` (GPUs, precision,
speed, device) and ``rules_training.py`` (hyper-parameters); their order is ``_RULES`` below. A new slot is a
field in ``Slots``, a rule function in the right module, and a line in ``_RULES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from agent.understanding import numbers
from agent.understanding.reader import Reader, num, value_of
from agent.understanding.rules_hardware import read_device_target, read_gpus, read_precision, read_speed
from agent.understanding.rules_images import read_dataset, read_keypoints, read_sizes
from agent.understanding.rules_labels import (
    read_classes,
    read_experiment_ids,
    read_label_structure,
    read_models,
    read_task,
)
from agent.understanding.rules_training import read_hyperparameters, read_learning_rate, read_training_choices
from agent.understanding.slot_types import Conflict, Found, Slots
from agent.understanding.text import wordset

__all__ = ["Conflict", "Found", "Slots", "parse_answer", "parse_slots"]


_RULES: tuple[Callable[[Reader], None], ...] = (
    read_experiment_ids,
    read_models,
    read_gpus,
    read_precision,
    read_learning_rate,
    read_sizes,
    read_hyperparameters,
    read_training_choices,
    read_speed,
    read_device_target,
    read_keypoints,
    read_dataset,
    read_label_structure,
    read_task,
    read_classes,
)


# Slots are read from the first 8,000 characters: past that a message is logs or pasted data, and the cap keeps
# the worst case bounded (the rules are linear, about 60 µs per character on a busy 2-core machine).
MAX_PARSE_CHARS = 8000


def _read(text: str, number_languages: Sequence[str] | None = None) -> Reader:
    reader = Reader(text[:MAX_PARSE_CHARS], number_languages)
    for rule in _RULES:
        rule(reader)
    return reader


def parse_slots(text: str) -> Slots:
    """Read every slot in a chat message (code blocks ignored). Deterministic; about a millisecond."""
    return _read(text).slots


_INT_SLOTS = wordset(
    "num_classes dataset_size images_per_class num_keypoints num_gpus batch_size epochs steps warmup_steps "
    "warmup_epochs freeze_epochs patience"
)


_BARE = re.compile(rf"{num()}")


def parse_answer(text: str, expected_slot: str) -> Found[Any] | None:
    """The value of ``expected_slot`` in a reply to the agent's question about it.

    The reply may be a full phrase ("with 20 classes"), a number word ("twenty"), or a bare number ("20",
    "about 20", "20 please"): a bare number counts only when it is the reply's only free number and the
    reply is short (eight words or fewer), so a new request is not mistaken for an answer. Returns None when
    the reply does not answer (the caller then treats it as a new message).
    """
    if expected_slot not in {item.name for item in fields(Slots)}:
        raise ValueError(f"unknown slot: {expected_slot!r}")
    reader = _read(text)
    if (
        reader.language == "en"
        and len(text.split()) <= 3
        and reader.slots.values().keys() <= {"experiment_ids", "models"}
    ):
        # "zwanzig", "vingt clases": too short to tell the language, so try every language's number words.
        reader = _read(text, numbers.ANSWER_LANGUAGES)
    found = getattr(reader.slots, expected_slot)
    if isinstance(found, Found):
        return found
    if isinstance(found, list) and found:
        return found[0]
    if len(reader.text.split()) > 8:
        return None
    free = [match for match in _BARE.finditer(reader.text) if not reader.is_claimed(*match.span())]
    if len(free) != 1:
        return None
    match = free[0]
    value = value_of(match)
    span = reader.view.span(*match.span())
    if (
        expected_slot in _INT_SLOTS
        and value == int(value)
        and value >= (0 if expected_slot == "num_gpus" else 1)
    ):
        return Found(int(value), span, "bare_answer")
    if expected_slot == "image_size" and 16 <= value <= 16384 and value == int(value):
        return Found((int(value), int(value)), span, "bare_answer")
    if expected_slot in {"latency_ms", "throughput_fps"}:
        return Found(float(value), span, "bare_answer")
    if expected_slot == "learning_rate" and 0 < value < 1:
        return Found(float(value), span, "bare_answer")
    return None
