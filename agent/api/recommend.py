"""``POST /v1/recommendations``: ranked architectures for ``{question}`` or ``{task, constraints}``.

A question the recommender cannot map to a task answers 200 with ``unknown_task`` (it is a conversation, not a
malformed request); an explicit ``task`` that is not supported is a client error: 422 naming the field and the
allowed values.
"""

from __future__ import annotations

from fastapi import APIRouter

from core.errors import ApiError
from knowledge import load_knowledge
from tools.recommend import RecommendRequest, RecommendResult, recommend

router = APIRouter(prefix="/v1", tags=["recommendations"])


@router.post("/recommendations")
async def create_recommendations(body: RecommendRequest) -> RecommendResult:
    """Rank architectures (with backbone, loss, augmentations, metrics, hyperparameters and the reasons)."""
    if body.task is not None and load_knowledge().task(body.task) is None:
        allowed = load_knowledge().task_names()
        raise ApiError(
            422,
            "unknown_task",
            f"unknown task {body.task!r}; supported tasks: {', '.join(allowed)}",
            [{"field": "task", "message": "unsupported task", "allowed": allowed}],
        )
    return recommend(body)
