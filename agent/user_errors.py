"""Problems said in the user's words: a tool's validation error becomes a sentence, never a pydantic message.

The detail (field path, pydantic's own message, the exception class) goes to the server log for operators;
the user reads what to change ("the image size must be at least 16 px"), and the agent can turn the same text
into a question.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

log = logging.getLogger("mlagent.tools")

FIELD_NAMES = {
    "num_classes": "the number of classes",
    "image_size": "the image size",
    "backbone": "the backbone",
    "task": "the task",
    "steps": "the number of training steps",
    "device": "the device",
    "code": "the code",
    "files": "the files",
    "ids": "the experiment ids",
    "input_shape": "the input shape",
    "module_class": "the LightningModule class name",
    "dataset_size": "the data set size",
    "latency_ms": "the latency budget",
    "question": "the question",
    "item": "the checklist item",
    "package": "the Lightning package",
}
TOOL_NAMES = {
    "review_code": "the review",
    "generate_project": "the project generator",
    "recommend_architecture": "the recommender",
    "smoke_run": "the smoke run",
    "fix_run": "the repair loop",
    "ab_test": "the A/B measurement",
    "export_onnx": "the ONNX export",
    "explain_checklist_item": "the checklist explanation",
    "list_experiments": "the experiment list",
    "compare_experiments": "the experiment comparison",
    "answer_question": "the knowledge base",
    "edit_code": "the code editor",
}


def _field(loc: tuple[Any, ...]) -> str:
    names = [str(part) for part in loc if not isinstance(part, int) and part not in {"body", "state"}]
    if not names:
        return "the input"
    return FIELD_NAMES.get(names[-1], f"`{names[-1]}`")


def _sentence(item: dict[str, Any]) -> str:
    field = _field(tuple(item.get("loc", ())))
    kind = str(item.get("type", ""))
    ctx = item.get("ctx") or {}
    unit = " px" if field == "the image size" else ""
    if kind == "missing":
        return f"I need {field}"
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        word = "at least" if kind == "greater_than_equal" else "more than"
        return f"{field} must be {word} {bound}{unit}"
    if kind in {"less_than_equal", "less_than"}:
        bound = ctx.get("le", ctx.get("lt"))
        word = "at most" if kind == "less_than_equal" else "less than"
        return f"{field} must be {word} {bound}{unit}"
    if kind == "literal_error":
        return f"{field} must be one of {ctx.get('expected', 'the listed values')}"
    if kind in {"int_parsing", "int_type", "int_from_float", "float_parsing", "float_type"}:
        return f"{field} must be a number"
    if kind in {"string_too_short", "too_short"}:
        return f"{field} is empty"
    if kind in {"string_too_long", "too_long"}:
        return f"{field} is too long"
    if kind == "value_error":
        return str(item.get("msg", "")).removeprefix("Value error, ")
    return f"{field} is not valid"


def friendly_validation(error: ValidationError, tool: str | None = None) -> str:
    """One or two plain sentences for a validation error (the raw detail is logged)."""
    log.info("tool input rejected", extra={"tool": tool, "detail": error.errors(include_url=False)})
    sentences = list(dict.fromkeys(_sentence(dict(item)) for item in error.errors()))
    text = "; ".join(sentences[:3])
    return text[:1].upper() + text[1:] + "."


def tool_error_text(error: Exception) -> str:
    """What the model (and so the user) reads when a tool raised instead of returning a result."""
    tool = getattr(error, "tool_name", None)
    source = getattr(error, "source", None)
    what = TOOL_NAMES.get(str(tool), "that step") if tool else "that step"
    if isinstance(source, ValidationError):
        return f"I could not run {what}: {friendly_validation(source, tool)}"
    log.error("tool raised", exc_info=error)
    return f"I could not run {what}: something went wrong on my side (logged for the operators)."
