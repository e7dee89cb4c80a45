"""``explain_checklist_item``: what a checklist item or review rule means and how it is judged."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.toolbelt.base import ToolContext, ToolOutput, ToolSpec, failure

NAME = "explain_checklist_item"


class ExplainArgs(BaseModel):
    """Arguments of the explain_checklist_item tool."""

    item: str = Field(description="A checklist id (e.g. gradient-clipping) or a rule id (e.g. MLR006).")


def explain_checklist_item(item: str) -> ToolOutput:
    """What a checklist item (or review rule) means, why it matters, and how it is judged."""
    from agent.checklist_guide import explain

    try:
        return explain(item)
    except KeyError as error:
        return failure(NAME, str(error.args[0]))


def _bind(ctx: ToolContext) -> Any:
    return explain_checklist_item


SPEC = ToolSpec(
    NAME,
    "Explain a review checklist item or rule: meaning, why it matters, how it is checked.",
    ExplainArgs,
    _bind,
)
