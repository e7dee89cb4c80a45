"""``GET /v1/threads/{id}`` (history) and ``DELETE /v1/threads/{id}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from agent.chat import THREAD_ID_PATTERN, ChatService, UnknownThreadError
from agent.errors import ApiError

router = APIRouter(tags=["threads"])


def _checked(thread_id: str) -> str:
    if not THREAD_ID_PATTERN.match(thread_id):
        raise ApiError(
            422,
            "invalid_thread_id",
            "a thread id is 1-128 characters of letters, digits, '_', '.', ':' or '-'",
        )
    return thread_id


def _unknown(thread_id: str) -> ApiError:
    return ApiError(404, "thread_not_found", f"no thread with id '{thread_id}'", {"thread_id": thread_id})


@router.get("/v1/threads/{thread_id}")
async def get_thread(request: Request, thread_id: str) -> dict[str, Any]:
    """The thread's messages in order: user, assistant (with tool calls) and tool results."""
    service: ChatService = request.app.state.chat
    try:
        messages = await service.history(_checked(thread_id))
    except UnknownThreadError:
        raise _unknown(thread_id) from None
    return {"thread_id": thread_id, "messages": messages}


@router.delete("/v1/threads/{thread_id}", status_code=204)
async def delete_thread(request: Request, thread_id: str) -> Response:
    """Remove the thread and all its checkpoints."""
    service: ChatService = request.app.state.chat
    try:
        await service.delete(_checked(thread_id))
    except UnknownThreadError:
        raise _unknown(thread_id) from None
    return Response(status_code=204)
