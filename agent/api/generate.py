"""``POST /v1/generate``: a GenerateSpec in, ``{files, review, notes, spec}`` out (nothing is executed).

Spec errors (unknown task or backbone, impossible image size) are 422s naming the field and the allowed values,
produced by the spec's own validators through the app's validation handler.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from core.errors import ApiError
from tools.codegen import GenerateResult, GenerateSpec, generate

router = APIRouter(prefix="/v1", tags=["generate"])


@router.post("/generate")
async def generate_project(body: GenerateSpec) -> GenerateResult:
    """Render the project and its static review (CPU-bound, so it runs off the event loop)."""
    try:
        return await run_in_threadpool(generate, body)
    except ValueError as error:
        raise ApiError(422, "invalid_spec", str(error), [{"field": "task", "message": str(error)}]) from None
