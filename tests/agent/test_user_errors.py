"""Validation problems reach the user as sentences, never as pydantic messages or exception names."""

from __future__ import annotations

import pytest
from langgraph.prebuilt.tool_node import ToolInvocationError
from pydantic import BaseModel, Field, ValidationError

from agent.toolbelt.generate import GenerateArgs
from agent.toolbelt.smoke import SmokeArgs
from agent.user_errors import friendly_validation, tool_error_text

LEAKS = ("Input should", "Field required", "validation error", "ToolInvocationError", "pydantic", "[type=")


def _error(model: type[BaseModel], **values: object) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        model(**values)
    return raised.value


@pytest.mark.parametrize(
    ("model", "values", "expected"),
    [
        (GenerateArgs, {}, "I need the task."),
        (GenerateArgs, {"task": "classification", "image_size": 8}, "The image size must be at least 16 px."),
        (
            GenerateArgs,
            {"task": "classification", "num_classes": 0},
            "The number of classes must be at least 1.",
        ),
        (GenerateArgs, {"task": "x", "package": "keras"}, "The Lightning package must be one of"),
        (SmokeArgs, {"steps": 5000}, "The number of training steps must be at most 1000."),
        (SmokeArgs, {"steps": "many"}, "The number of training steps must be a number."),
    ],
)
def test_validation_errors_become_sentences(
    model: type[BaseModel], values: dict[str, object], expected: str
) -> None:
    text = friendly_validation(_error(model, **values))
    assert text.startswith(expected), text
    assert not any(leak in text for leak in LEAKS)


def test_a_tool_invocation_error_names_the_step_in_words() -> None:
    class Args(BaseModel):
        num_classes: int = Field(ge=1)

    source = _error(Args, num_classes=-3)
    text = tool_error_text(ToolInvocationError("generate_project", source, {"num_classes": -3}))
    assert text == "I could not run the project generator: The number of classes must be at least 1."


def test_an_unexpected_tool_exception_is_not_shown() -> None:
    text = tool_error_text(RuntimeError("database is locked at /secret/path"))
    assert "secret" not in text and "RuntimeError" not in text and "logged" in text
