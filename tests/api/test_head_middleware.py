"""HEAD on an endless stream ends as soon as the headers are out (the GET would stream forever)."""

from __future__ import annotations

import anyio
import httpx
from starlette.types import Receive, Scope, Send

from agent.middleware import HeadMiddleware


async def endless_stream(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["method"] == "GET"
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    while True:
        await send({"type": "http.response.body", "body": b"data: tick\n\n", "more_body": True})
        await anyio.sleep(0.01)


async def _head(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=HeadMiddleware(endless_stream))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with anyio.fail_after(5):
            return await client.head(path)


def test_head_on_an_endless_stream_returns_headers_only() -> None:
    response = anyio.run(_head, "/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.content == b""
