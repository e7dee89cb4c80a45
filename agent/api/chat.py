"""``POST /v1/chat`` (one turn) and ``POST /v1/chat/stream`` (the same turn as Server-Sent Events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field, StringConstraints, field_validator

from agent.api.deps import ChatServiceDep, SettingsDep
from agent.chat import ChatService
from agent.ids import NOT_BLANK, THREAD_ID
from core.errors import ApiError

router = APIRouter(tags=["chat"])

ThreadId = Annotated[str, StringConstraints(pattern=THREAD_ID)]


class ChatRequest(BaseModel):
    """One user message, optionally continuing a thread."""

    message: str = Field(
        min_length=1,
        description="What the user says; code may be fenced or pasted plainly. Not blank; the length limit is "
        "MLAGENT_MAX_MESSAGE_CHARS (413 above it).",
        # Documents the blank check below (a JSON Schema pattern is searched: one non-space character).
        json_schema_extra={"pattern": NOT_BLANK},
    )
    thread_id: ThreadId | None = Field(default=None, description="Continue this thread (created if new).")

    @field_validator("message", mode="before")
    @classmethod
    def _not_blank(cls, value: object) -> object:
        # Before the length check, so that "" and "   " get the same clear message.
        if isinstance(value, str) and not value.strip():
            raise ValueError("the message is empty")
        return value


class ToolCallOut(BaseModel):
    """A tool call the agent made during the turn."""

    id: str
    name: str
    args: dict[str, Any]
    result: Any


class ChatResponse(BaseModel):
    """The agent's reply and the tool calls behind it."""

    thread_id: str
    reply: str
    tool_calls: list[ToolCallOut]
    pending_action: dict[str, Any] | None = Field(
        default=None,
        description="A costly run waiting for approval (then the reply asks for it); answer it with "
        "POST /v1/threads/{id}/resume or a yes/no message.",
    )


def _service(body: ChatRequest, settings: SettingsDep, service: ChatServiceDep) -> ChatService:
    limit = settings.max_message_chars
    if len(body.message) > limit:
        raise ApiError(
            413, "message_too_long", f"the message has {len(body.message)} characters; the limit is {limit}"
        )
    return service


@router.post("/v1/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, settings: SettingsDep, service: ChatServiceDep) -> dict[str, Any]:
    """Run one turn of the agent and return its reply with the tool calls it made."""
    turn = await _service(body, settings, service).turn(body.message, body.thread_id)
    return turn.as_dict()


async def request_cleanup() -> AsyncIterator[AsyncExitStack]:
    """An exit stack that FastAPI unwinds when the request ends, however it ends (client gone included).

    When a client drops a stream, FastAPI cancels the task pulling events from the endpoint's generator but
    never closes that generator: it stays suspended, holding the thread's turn lock, until the garbage
    collector finds it (observed: follow-up turns waiting 15-74 s). Resources registered here are closed
    deterministically instead.
    """
    async with AsyncExitStack() as stack:
        yield stack


@router.post("/v1/chat/stream", response_class=EventSourceResponse)
async def chat_stream(
    body: ChatRequest,
    settings: SettingsDep,
    service: ChatServiceDep,
    cleanup: Annotated[AsyncExitStack, Depends(request_cleanup)],
) -> AsyncIterator[ServerSentEvent]:
    """The same turn as SSE events: ``token``, ``tool_start``, ``tool_end``, then ``done`` (or ``error``)."""
    events = await cleanup.enter_async_context(
        aclosing(_service(body, settings, service).stream_turn(body.message, body.thread_id))
    )
    async for event, data in events:
        yield ServerSentEvent(event=event, data=data)
