"""A scripted OpenAI-protocol server for tests: real HTTP, real JSON/SSE, no model behind it.

Script: when the last message is a tool result it answers in prose quoting the tool; when tools are offered
and the user asks for a review it calls ``review_code`` with no arguments (the agent then reviews the thread's
code); otherwise it answers in prose. Every request body is recorded for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.conftest import free_port


def _decide(body: dict[str, Any]) -> dict[str, Any]:
    messages = body["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        return {"role": "assistant", "content": f"Stub model summary. Tool said: {str(last['content'])[:60]}"}
    user = next(m for m in reversed(messages) if m["role"] == "user")
    text = user["content"] if isinstance(user["content"], str) else json.dumps(user["content"])
    if body.get("tools") and "review" in text.lower():
        call = {
            "id": "call_stub_1",
            "type": "function",
            "function": {"name": "review_code", "arguments": "{}"},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
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

    def __init__(self, api_key: str = "stub-key") -> None:
        self.requests: list[dict[str, Any]] = []
        self.api_key = api_key
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
            return {"object": "list", "data": [{"id": "stub-model", "object": "model"}]}

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> Any:
            body = await request.json()
            self.requests.append(body)
            message = _decide(body)
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
