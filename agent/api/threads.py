"""``GET /v1/threads/{id}`` (history) and ``DELETE /v1/threads/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from agent.api.deps import ChatServiceDep
from agent.chat import UnknownThreadError
from agent.ids import THREAD_ID, THREAD_ID_HELP
from core.errors import ApiError

router = APIRouter(tags=["threads"])

# Declared in the OpenAPI document and enforced by the same pattern (a bad id is a 422 invalid_thread_id).
ThreadIdPath = Annotated[str, Path(pattern=THREAD_ID, description=f"The thread id: {THREAD_ID_HELP}.")]


def _unknown(thread_id: str) -> ApiError:
    return ApiError(404, "thread_not_found", f"no thread with id '{thread_id}'", {"thread_id": thread_id})


@router.get("/v1/threads/{thread_id}")
async def get_thread(thread_id: ThreadIdPath, service: ChatServiceDep) -> dict[str, Any]:
    """The thread's messages in order: user, assistant (with tool calls) and tool results."""
    try:
        messages = await service.history(thread_id)
    except UnknownThreadError:
        raise _unknown(thread_id) from None
    return {"thread_id": thread_id, "messages": messages}


@router.delete("/v1/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: ThreadIdPath, service: ChatServiceDep) -> Response:
    """Remove the thread and all its checkpoints."""
    try:
        await service.delete(thread_id)
    except UnknownThreadError:
        raise _unknown(thread_id) from None
    return Response(status_code=204)
