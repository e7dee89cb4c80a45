"""End-to-end: a client that drops a streamed turn must not leave the thread locked (issue 12, item 3).

Against the real server: open the stream, drop the connection after the first event (or stop reading and
then drop it), and a follow-up turn on the same thread must finish within a couple of seconds.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import RunningServer
from tests.samples import LIGHTNING_SCRIPT, PLAIN_LOOP

pytestmark = pytest.mark.slow

FOLLOW_UP_LIMIT_S = 2.0
MESSAGES = [
    f"review this:\n```python\n{PLAIN_LOOP}```",
    f"review and fix this:\n```python\n{LIGHTNING_SCRIPT}```",
    "generate a lightning project for image classification with resnet18 and 10 classes",
]


def raw_request(server: RunningServer, path: str, body: dict[str, object], headers: dict[str, str]) -> bytes:
    host = urlsplit(server.url).netloc
    payload = json.dumps(body).encode()
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    head += [f"Content-Length: {len(payload)}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def open_and_drop(
    server: RunningServer,
    path: str,
    body: dict[str, object],
    headers: dict[str, str] | None = None,
    stall_s: float = 0.0,
) -> bytes:
    """Send the request on a raw socket, read until the first SSE event, optionally stop reading, then drop.

    A tiny receive buffer makes the server's writes back up while the client stalls, so the server is left
    blocked in ``send`` (its event generator suspended at a yield) when the connection goes.
    """
    host, port = urlsplit(server.url).netloc.split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    received = b""
    try:
        sock.sendall(raw_request(server, path, body, headers or {}))
        while b"\ndata:" not in received and b"\r\n\r\ndata:" not in received:
            chunk = sock.recv(1024)
            if not chunk:
                break
            received += chunk
        time.sleep(stall_s)
    finally:
        # RST instead of FIN: the way a killed client or a dropped network link looks to the server.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
    assert received.startswith(b"HTTP/1.1 200"), received[:200]
    return received


def timed_follow_up(server: RunningServer, thread_id: str) -> float:
    started = time.monotonic()
    response = httpx.post(
        f"{server.url}/v1/chat", json={"message": "what can you do?", "thread_id": thread_id}, timeout=120
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert "Review" in response.json()["reply"]
    return elapsed


@pytest.mark.parametrize("stall_s", [0.0, 0.5])
def test_dropped_chat_stream_releases_the_thread(server: RunningServer, stall_s: float) -> None:
    for index, message in enumerate(MESSAGES):
        thread_id = f"drop-{int(stall_s * 10)}-{index}"
        open_and_drop(
            server, "/v1/chat/stream", {"message": message, "thread_id": thread_id}, stall_s=stall_s
        )
        elapsed = timed_follow_up(server, thread_id)
        assert elapsed < FOLLOW_UP_LIMIT_S, f"follow-up on {thread_id} took {elapsed:.1f}s"
        history = httpx.get(f"{server.url}/v1/threads/{thread_id}").json()["messages"]
        assert history[-1]["role"] == "assistant" and history[-2]["content"] == "what can you do?"
    assert httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200


@pytest.mark.parametrize("stall_s", [0.0, 0.5])
def test_dropped_chat_completions_stream_releases_the_thread(server: RunningServer, stall_s: float) -> None:
    for index, message in enumerate(MESSAGES):
        thread_id = f"oai-drop-{int(stall_s * 10)}-{index}"
        body = {"model": "mlagent", "stream": True, "messages": [{"role": "user", "content": message}]}
        open_and_drop(server, "/v1/chat/completions", body, {"X-Thread-Id": thread_id}, stall_s=stall_s)
        elapsed = timed_follow_up(server, thread_id)
        assert elapsed < FOLLOW_UP_LIMIT_S, f"follow-up on {thread_id} took {elapsed:.1f}s"
