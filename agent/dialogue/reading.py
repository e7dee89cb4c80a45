"""The values a message states (task, classes, sizes, constraints) and answers to the agent's questions.

A thin adapter from :mod:`agent.understanding` (the slot parser) to the flat spec the dialogue state keeps and
the tools take: sizes become one side, the device becomes the knowledge base's profile.
"""

from __future__ import annotations

from typing import Any

from agent.understanding import Slots, parse_slots
from agent.understanding import parse_answer as read_answer


def spec_values(slots: Slots) -> dict[str, Any]:
    """The spec keys a parsed message fills (tool-ready values)."""
    values: dict[str, Any] = dict(slots.generate_args())
    raw = slots.values()
    if raw.get("multi_label"):
        values["multi_label"] = True
        values.setdefault("task", "classification")
    if raw.get("regression"):
        values["task"] = "regression"
    if slots.knowledge_device:
        values["device"] = slots.knowledge_device
    for key in ("dataset_size", "latency_ms", "num_keypoints", "num_gpus", "precision"):
        if raw.get(key) is not None:
            values[key] = raw[key]
    if raw.get("class_imbalance"):
        values["imbalanced"] = True
    return values


def message_slots(prose: str) -> dict[str, Any]:
    """Spec values stated in a message (code removed)."""
    return spec_values(parse_slots(prose))


def parse_answer(prose: str, slot: str) -> Any:
    """The value of ``slot`` in a reply to the agent's question ("20", "twenty", "with 20 classes"), or None."""
    try:
        found = read_answer(prose, slot)
    except ValueError:  # a slot the parser does not know: only an explicit statement counts
        return message_slots(prose).get(slot)
    if found is None:
        return None
    value = found.value
    if slot == "image_size" and isinstance(value, tuple):
        return max(value)
    return value
