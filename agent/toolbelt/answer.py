"""``answer_question``: general ML-engineering answers composed from the knowledge base, entries named."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.toolbelt.base import ToolContext, ToolOutput, ToolSpec

NAME = "answer_question"


class AnswerArgs(BaseModel):
    """Arguments of the answer_question tool."""

    question: str = Field(
        min_length=1, max_length=4000, description="The user's question in their own words."
    )


def answer_question(question: str) -> ToolOutput:
    """A general ML-engineering answer composed from the knowledge base, naming its entries (or saying that
    nothing fits)."""
    from knowledge.answer import answer_question as answer

    result = answer(question)
    return result.markdown, result.model_dump(mode="json")


def _bind(ctx: ToolContext) -> Any:
    return answer_question


SPEC = ToolSpec(
    NAME,
    "Answer a general ML-engineering question (Lightning training, data, evaluation, export, CV tasks) "
    "from the curated knowledge base; says when the question is outside it.",
    AnswerArgs,
    _bind,
)
