"""``POST /v1/review``: the static review over HTTP (the same engine as the CLI and the agent's tool)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from agent.api.deps import ReviewPoolDep
from core.errors import ApiError
from tools.review import ReviewRequest, render
from tools.review.bounded import ReviewRefused, review_bounded

router = APIRouter(tags=["review"])


@router.post(
    "/v1/review",
    responses={
        413: {"description": "The review needed more memory than a review worker may use."},
        422: {"description": "A field is invalid, or the review passed its deadline or crashed its parser."},
        503: {"description": "Every review worker stayed busy; retry after the Retry-After seconds."},
    },
)
async def post_review(request: ReviewRequest, pool: ReviewPoolDep) -> dict[str, Any]:
    """Review ``{code}`` or ``{files}``; ``format`` other than json adds ``rendered`` text to the JSON report.

    The review runs in one of the service's worker processes (deadline, memory cap, crash isolation); this
    route only waits for it in a thread, so the event loop keeps answering other clients.
    """
    try:
        report = await run_in_threadpool(review_bounded, request, pool)
    except ReviewRefused as refused:
        headers = {"Retry-After": "5"} if refused.status == 503 else None
        raise ApiError(refused.status, refused.code, refused.message, headers=headers) from None
    body: dict[str, Any] = report.contract()
    if request.format != "json":
        body["rendered"] = render(report, request.format)
    return body
