"""``GET /v1/threads/{id}`` (history, and the pending action), ``DELETE /v1/threads/{id}``, ``POST .../resume``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from agent.api.chat import ChatResponse
from agent.api.deps import ChatServiceDep
from agent.approval import Decision
from agent.chat import NoPendingAction, UnknownThreadError
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
    body: dict[str, Any] = {"thread_id": thread_id, "messages": messages}
    pending = await service.pending_action(thread_id)
    if pending is not None:
        body["pending_action"] = pending
    return body


@router.post(
    "/v1/threads/{thread_id}/resume",
    response_model=ChatResponse,
    responses={
        404: {"description": "No thread with this id."},
        409: {"description": "The thread waits for no approval."},
    },
)
async def resume_thread(thread_id: ThreadIdPath, body: Decision, service: ChatServiceDep) -> dict[str, Any]:
    """Approve, edit (then approve) or reject the thread's pending action; the paused turn then finishes and
    this answers like ``POST /v1/chat``."""
    try:
        turn = await service.resume(thread_id, body)
    except UnknownThreadError:
        raise _unknown(thread_id) from None
    except NoPendingAction:
        raise ApiError(
            409, "no_pending_action", f"thread '{thread_id}' waits for no approval", {"thread_id": thread_id}
        ) from None
    return turn.as_dict()


@router.delete("/v1/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: ThreadIdPath, service: ChatServiceDep) -> Response:
    """Remove the thread and all its checkpoints."""
    try:
        await service.delete(thread_id)
    except UnknownThreadError:
        raise _unknown(thread_id) from None
    return Response(status_code=204)
