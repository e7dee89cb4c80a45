"""OpenAI-compatible facade: ``POST /v1/chat/completions`` (plain and streamed) and ``GET /v1/models``.

Lets Open WebUI, the ``openai`` SDK or any Chat Completions client talk to the agent. Chat Completions is
stateless, so the whole ``messages`` array is the conversation (run on a graph without a checkpointer), unless
the client sends ``X-Thread-Id``, which continues a stored thread with the last user message. Tool steps the
agent already ran are shown as content (``<details type="tool_calls">`` blocks that Open WebUI renders as tool
chips), never as ``delta.tool_calls``, which a client would try to execute itself.
"""

from __future__ import annotations

import html
import json
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any, Literal

from fastapi import APIRouter, Header
from fastapi.sse import EventSourceResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from agent.api.deps import ChatServiceDep, StatelessChatDep
from agent.chat import ChatService, ChatTurn, ToolCallRecord
from agent.ids import NOT_BLANK, THREAD_ID, THREAD_ID_HELP
from core.errors import ApiError

router = APIRouter(tags=["openai-compatible"])
MODEL_ID = "mlagent"
# One Server-Sent Event, described the way FastAPI describes its own SSE endpoints (OpenAPI 3.2 itemSchema).
SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {"data": {"type": "string"}, "event": {"type": "string"}, "id": {"type": "string"}},
}


class ClosingEventSourceResponse(EventSourceResponse):
    """An SSE response that closes its event generator when the response ends, however it ends.

    Starlette cancels a streaming response whose client went away but leaves the body generator suspended,
    so whatever the generator holds (here the thread's turn lock) would wait for the garbage collector.
    """

    body_iterator: AsyncGenerator[bytes, None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with aclosing(self.body_iterator):
            await super().__call__(scope, receive, send)


# What a conversation must contain for the agent to have something to answer: a user message with text (plain
# content, or a ``text`` part). Declared in the document (JSON Schema ``contains``) and checked by to_langchain.
USER_TEXT_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"const": "user"},
        "content": {
            "anyOf": [
                {"type": "string", "pattern": NOT_BLANK},
                {
                    "type": "array",
                    "contains": {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {
                            "type": {"const": "text"},
                            "text": {"type": "string", "pattern": NOT_BLANK},
                        },
                    },
                },
            ]
        },
    },
}


class CompletionMessage(BaseModel):
    """One message of the Chat Completions ``messages`` array."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    """``stream_options`` of the request."""

    include_usage: bool = False


class CompletionRequest(BaseModel):
    """The subset of the Chat Completions request the agent honours (other fields are accepted and ignored)."""

    model: str = MODEL_ID
    messages: list[CompletionMessage] = Field(
        min_length=1,
        description="The conversation. The agent answers its last user message with text; messages after that "
        "one (an assistant prefill, tool results) are ignored.",
        json_schema_extra={"contains": USER_TEXT_MESSAGE_SCHEMA},
    )
    stream: bool = False
    stream_options: StreamOptions | None = None


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for part in content:
        if part.get("type") == "text":
            parts.append(str(part.get("text", "")))
        elif part.get("type") in {"image_url", "input_image"}:
            parts.append("[an image was attached; this agent reads code and text only]")
    return "\n".join(parts)


def to_langchain(messages: list[CompletionMessage]) -> list[BaseMessage]:
    """User and assistant turns up to the last user message with text become the conversation.

    System/developer prompts are the client's, not ours, and the agent runs its own tools, so tool messages and
    anything after the question it answers are left out.
    """
    asked = [
        i for i, message in enumerate(messages) if message.role == "user" and _text(message.content).strip()
    ]
    if not asked:
        raise ApiError(422, "invalid_request", "the conversation has no user message with text to answer")
    converted: list[BaseMessage] = []
    for message in messages[: asked[-1] + 1]:
        if message.role == "user":
            converted.append(HumanMessage(content=_text(message.content)))
        elif message.role == "assistant" and _text(message.content):
            converted.append(AIMessage(content=_text(message.content)))
    return converted


def tool_block(call: ToolCallRecord) -> str:
    """A tool step as an Open WebUI ``<details type="tool_calls">`` block."""
    arguments = html.escape(json.dumps(call.args), quote=True)
    result = html.escape(json.dumps(call.result, default=str)[:4000], quote=True)
    return (
        f'<details type="tool_calls" done="true" name="{call.name}" arguments="{arguments}" '
        f'result="{result}">\n<summary>Tool: {call.name}</summary>\n</details>\n\n'
    )


def _usage(prompt: str, completion: str) -> dict[str, int]:
    # Rough token counts (words): there is no tokenizer behind the offline planner.
    prompt_tokens, completion_tokens = len(prompt.split()), len(completion.split())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _select(
    stored: ChatService, stateless: ChatService, thread_header: str | None, messages: list[BaseMessage]
) -> tuple[ChatService, list[BaseMessage], str | None]:
    if thread_header:
        return stored, messages[-1:], thread_header
    return stateless, messages, None


@router.get("/v1/models")
async def list_models() -> dict[str, Any]:
    """The one model this server offers: the agent."""
    return {
        "object": "list",
        "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "ml-engineer-agent"}],
    }


@router.post(
    "/v1/chat/completions",
    response_model=None,
    responses={
        200: {
            "description": "A chat completion, or with ``stream: true`` its chunks as Server-Sent Events",
            "content": {"application/json": {}, "text/event-stream": {"itemSchema": SSE_EVENT_SCHEMA}},
        }
    },
)
async def chat_completions(
    body: CompletionRequest,
    stored: ChatServiceDep,
    stateless: StatelessChatDep,
    x_thread_id: str | None = Header(
        default=None,
        pattern=THREAD_ID,
        description=f"Continue this stored thread with the last user message ({THREAD_ID_HELP}).",
    ),
) -> dict[str, Any] | EventSourceResponse:
    """Run the agent on the conversation and answer in the Chat Completions format."""
    messages = to_langchain(body.messages)
    service, new_messages, thread_id = _select(stored, stateless, x_thread_id, messages)
    prompt_text = " ".join(str(message.content) for message in messages)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        events = _stream_chunks(
            service, new_messages, thread_id, completion_id, created, include_usage, prompt_text
        )
        return ClosingEventSourceResponse(events)
    turn: ChatTurn = await service.run_turn(new_messages, thread_id)
    content = "".join(tool_block(call) for call in turn.tool_calls) + turn.reply
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": _usage(prompt_text, turn.reply),
    }


async def _stream_chunks(
    service: ChatService,
    messages: list[BaseMessage],
    thread_id: str | None,
    completion_id: str,
    created: int,
    include_usage: bool,
    prompt_text: str,
) -> AsyncGenerator[bytes, None]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    yield chunk({"role": "assistant", "content": ""})
    reply = ""
    async with aclosing(service.stream(messages, thread_id)) as events:
        async for event, data in events:
            if event == "token":
                reply += data["text"]
                yield chunk({"content": data["text"]})
            elif event == "tool_end":
                call = ToolCallRecord(data["id"], data["name"], data["args"], data["result"])
                yield chunk({"content": tool_block(call)})
            elif event == "error":
                yield chunk({"content": f"\n\n**Error:** {data['message']}"})
            elif event == "done" and data.get("pending_action") and not reply:
                # The turn paused for approval: no tokens came, the question is the reply.
                reply = data["reply"]
                yield chunk({"content": reply})
    yield chunk({}, finish="stop")
    if include_usage:
        usage = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [],
            "usage": _usage(prompt_text, reply),
        }
        yield f"data: {json.dumps(usage)}\n\n".encode()
    yield b"data: [DONE]\n\n"
