"""``recommend_architecture``: ranked advice from the knowledge base, and "why not X?" comparisons."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from agent.toolbelt.base import ToolContext, ToolOutput, ToolSpec, validation_failure

NAME = "recommend_architecture"


class RecommendArgs(BaseModel):
    """Arguments of the recommend_architecture tool."""

    question: str | None = Field(default=None, description="The user's question in their own words.")
    task: str | None = Field(default=None, description="classification, segmentation, detection, ...")
    constraints: dict[str, Any] | None = Field(
        default=None, description="dataset_size, latency_ms, device, ..."
    )
    alternative: str | None = Field(
        default=None,
        description='An architecture the user asks about ("why not YOLO?"): compared with the top pick for task.',
    )


def recommend_architecture(
    question: str | None = None,
    task: str | None = None,
    constraints: dict[str, Any] | None = None,
    alternative: str | None = None,
) -> ToolOutput:
    """Ranked architecture/backbone/loss/augmentation/metric advice computed from the knowledge base."""
    from tools.alternatives import explain_alternative
    from tools.recommend import Constraints, RecommendRequest, recommend, render_recommendation

    try:
        if alternative and task:
            answer = explain_alternative(task, alternative, Constraints.model_validate(constraints or {}))
            return answer.markdown, {
                "alternative": alternative,
                "found": answer.found,
                "task": answer.task,
                "architecture": answer.architecture,
            }
        if task and question:
            # The planner knows the task (from the thread or its slot parser); the question adds constraints.
            from knowledge import load_knowledge
            from tools.recommend import parse_question

            try:
                _, parsed, _ = parse_question(question, load_knowledge())
                read = parsed.model_dump(exclude_none=True)
            except (ValidationError, ValueError):
                # The recommender's own reader misread a value ("objects of 8-15 px" as the image size); the
                # planner's slot parser already gave what it could read, so use that alone.
                read = {}
            merged = {**read, **(constraints or {})}
            request = RecommendRequest(task=task, constraints=Constraints.model_validate(merged))
        elif task:
            request = RecommendRequest(task=task, constraints=Constraints.model_validate(constraints or {}))
        else:
            request = RecommendRequest(question=question or "")
        result = recommend(request)
    except (ValidationError, ValueError) as error:
        return validation_failure(NAME, error)
    return render_recommendation(result), result.model_dump(mode="json")


def _bind(ctx: ToolContext) -> Any:
    return recommend_architecture


SPEC = ToolSpec(
    NAME,
    "Architecture, backbone, loss, augmentation and metric advice for a CV task.",
    RecommendArgs,
    _bind,
)
