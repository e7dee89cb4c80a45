"""``POST /v1/review``: the static review over HTTP (the same engine as the CLI and the agent's tool)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from agent.errors import ApiError
from tools.review import ReviewRequest, render, review

router = APIRouter(tags=["review"])


@router.post("/v1/review")
async def post_review(request: ReviewRequest) -> dict[str, Any]:
    """Review ``{code}`` or ``{files}``; ``format`` other than json adds ``rendered`` text to the JSON report.

    The review is CPU-bound LibCST work, so it runs in the thread pool to keep the event loop responsive.
    """
    try:
        report = await run_in_threadpool(review, request)
    except RecursionError:
        raise ApiError(422, "unreviewable_code", "the code nests too deeply to be reviewed") from None
    body: dict[str, Any] = report.model_dump(exclude_none=True)
    if request.format != "json":
        body["rendered"] = render(report, request.format)
    return body
