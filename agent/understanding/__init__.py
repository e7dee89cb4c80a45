"""Deterministic understanding of chat messages from ML practitioners (no model, microseconds to a millisecond).

- :func:`parse_slots` reads counts, sizes, ranges, units, names and flags (``Slots``), each with its span;
  :func:`parse_answer` reads the reply to a question the agent asked ("20", "twenty", "with 20 classes").
- :func:`detect_language` and :func:`core_intent_hints` make the core requests work in de/fr/es/it/pt.
- :func:`normalise` corrects misspelt domain words without touching code or identifiers.
"""

from agent.understanding.fuzzy import normalise
from agent.understanding.language import core_intent_hints, detect_language
from agent.understanding.models import ModelRef
from agent.understanding.slots import Conflict, Found, Slots, parse_answer, parse_slots
from agent.understanding.tasks import EXTRA_TASKS, KNOWN_TASKS
from agent.understanding.text import Span


def warm_up() -> None:
    """Load the model-name vocabulary (it reads the knowledge base) now, e.g. at server start-up.

    Otherwise the first message that names a model pays for it (about a second on a busy 2-core machine).
    """
    from agent.understanding.models import _vocabulary

    _vocabulary()
    parse_slots("warm up: resnet50, 5 classes, 224 px")


__all__ = [
    "EXTRA_TASKS",
    "KNOWN_TASKS",
    "Conflict",
    "Found",
    "ModelRef",
    "Slots",
    "Span",
    "core_intent_hints",
    "detect_language",
    "normalise",
    "parse_answer",
    "parse_slots",
    "warm_up",
]
