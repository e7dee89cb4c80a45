"""A scripted OpenAI-protocol server for tests: real HTTP, real JSON/SSE, no model behind it.

Script: when the last message is a tool result it answers in prose quoting the tool; when tools are offered
and the user asks for a review it calls ``review_code`` with no arguments (the agent then reviews the thread's
code), or with ``invented_code`` when set; a compose-mode request (no tools, the writer's prompt) gets a true
sentence followed by an invented run; otherwise it answers in prose. Every request body is recorded.

As strict as the real servers (see ../shared/notes/llm-local.md), so what they reject fails here too: an
assistant tool-call message with ``content: null`` (llama-cpp-python), tools without ``tool_choice``
(llama-cpp-python then leaves them out of the prompt), empty or non-JSON tool-call arguments, a ``tool``
message answering no call, and a request without ``max_tokens`` (a small model then generates until its
context is full). ``delay_s`` makes it slow (timeouts) and ``fail_status`` makes it answer an error.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.conftest import free_port

COMPOSE_MARKER = "The tools have already run"
INVENTED_CLAIM = "I trained it for 3 epochs and reached 97.3% accuracy in my experiments."


def strictness_problem(body: dict[str, Any]) -> str | None:
    """What a real server would reject (or mishandle) in this request, or None."""
    if body.get("max_tokens") is None and body.get("max_completion_tokens") is None:
        return "no max_tokens: a small model would generate until its context is full"
    if body.get("tools") and body.get("tool_choice") is None:
        return "tools without tool_choice: llama-cpp-python leaves them out of the prompt"
    open_calls: set[str] = set()
    for message in body.get("messages", []):
        if message.get("role") == "assistant" and message.get("tool_calls"):
            if message.get("content") is None:
                return "assistant message with tool_calls and content null"
            for call in message["tool_calls"]:
                arguments = call.get("function", {}).get("arguments")
                try:
                    parsed = json.loads(arguments) if isinstance(arguments, str) and arguments else None
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    return f"tool call arguments must be a JSON object, got {arguments!r}"
                open_calls.add(call.get("id"))
        if message.get("role") == "tool" and message.get("tool_call_id") not in open_calls:
            return f"tool message answers no call: {message.get('tool_call_id')!r}"
    return None


def _decide(body: dict[str, Any], invented_code: str | None = None) -> dict[str, Any]:
    messages = body["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        return {"role": "assistant", "content": f"Stub model summary. Tool said: {str(last['content'])[:60]}"}
    if COMPOSE_MARKER in str(messages[0].get("content")):
        return {"role": "assistant", "content": f"Stub writer: the tools answered. {INVENTED_CLAIM}"}
    user = next(m for m in reversed(messages) if m["role"] == "user")
    text = user["content"] if isinstance(user["content"], str) else json.dumps(user["content"])
    if body.get("tools") and "review" in text.lower():
        arguments = json.dumps({"code": invented_code}) if invented_code else "{}"
        call = {
            "id": "call_stub_1",
            "type": "function",
            "function": {"name": "review_code", "arguments": arguments},
        }
        return {"role": "assistant", "content": "", "tool_calls": [call]}
    return {"role": "assistant", "content": "Plain stub answer."}


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "stub-model",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunks(message: dict[str, Any]) -> list[dict[str, Any]]:
    base = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "stub-model",
    }
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if message.get("tool_calls"):
        call = message["tool_calls"][0]
        deltas.append({"tool_calls": [{"index": 0, **call}]})
        finish = "tool_calls"
    else:
        deltas += [{"content": word + " "} for word in str(message["content"]).split(" ")]
        finish = "stop"
    chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return chunks


class OpenAIStub:
    """Run the stub on a free loopback port in a background thread."""

    def __init__(
        self, api_key: str = "stub-key", model_id: str = "stub-model", meta: dict[str, Any] | None = None
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.api_key = api_key
        self.model_id = model_id
        self.meta = meta
        self.delay_s = 0.0
        self.fail_status: int | None = None
        self.invented_code: str | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        app = FastAPI()

        @app.middleware("http")
        async def check_key(request: Request, call_next: Any) -> Any:
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return JSONResponse({"error": {"message": "bad key"}}, status_code=401)
            return await call_next(request)

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            entry: dict[str, Any] = {"id": self.model_id, "object": "model"}
            if self.meta:
                entry["meta"] = self.meta
            return {"object": "list", "data": [entry]}

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> Any:
            body = await request.json()
            self.requests.append(body)
            problem = strictness_problem(body)
            if problem:
                self.rejected.append(problem)
                return JSONResponse({"error": {"message": problem, "type": "invalid_request"}}, 400)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.fail_status:
                return JSONResponse({"error": {"message": "stub failure"}}, self.fail_status)
            message = _decide(body, self.invented_code)
            if body.get("stream"):
                lines = (
                    "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in _chunks(message))
                    + "data: [DONE]\n\n"
                )
                return StreamingResponse(iter([lines]), media_type="text/event-stream")
            return _completion(message)

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
