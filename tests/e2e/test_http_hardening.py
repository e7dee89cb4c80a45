"""HTTP-level hardening against the real server: HEAD on GET routes, half-open connections, auth rate limit."""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer

pytestmark = pytest.mark.slow

# Headers that legitimately differ between two answers to the same request.
_VOLATILE = {"date", "x-request-id"}


def _sample_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "abc-1", template)


def _comparable(headers: httpx.Headers) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in _VOLATILE}


def test_head_answers_on_every_get_route_like_get_without_a_body(server: RunningServer) -> None:
    document: dict[str, Any] = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    get_paths = [path for path, operations in document["paths"].items() if "get" in operations]
    assert len(get_paths) >= 10
    for path in [*get_paths, "/openapi.json", "/docs"]:
        url = f"{server.url}{_sample_path(path)}"
        got = httpx.get(url, timeout=30)
        head = httpx.head(url, timeout=30)
        assert head.status_code == got.status_code != 405, (path, head.status_code, got.status_code)
        assert head.content == b"", path
        assert _comparable(head.headers) == _comparable(got.headers), path
    ok = httpx.head(f"{server.url}/healthz", timeout=10)
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/json"
    assert int(ok.headers["content-length"]) == len(httpx.get(f"{server.url}/healthz", timeout=10).content)


def test_head_on_a_post_only_route_is_405_listing_the_methods(server: RunningServer) -> None:
    response = httpx.head(f"{server.url}/v1/review", timeout=10)
    assert response.status_code == 405 and response.content == b""
    assert "POST" in response.headers["allow"]


def test_get_routes_still_allow_head_in_405(server: RunningServer) -> None:
    response = httpx.put(f"{server.url}/healthz", timeout=10)
    assert response.status_code == 405
    assert {"GET", "HEAD"} <= {method.strip() for method in response.headers["allow"].split(",")}


# --- half-open connections --------------------------------------------------------------------------------

READ_TIMEOUT_S = 1.5


def _open(server: RunningServer, first_bytes: bytes) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server closed the connection (what it sent before, such as a response, is skipped)."""
    sock.settimeout(2)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _open_fds(server: RunningServer) -> int:
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def _healthz_seconds(server: RunningServer) -> float:
    started = time.perf_counter()
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    return time.perf_counter() - started


def test_half_open_connections_are_closed_after_the_read_timeout(server_factory: Any) -> None:
    server = server_factory(env={"MLAGENT_REQUEST_READ_TIMEOUT_S": str(READ_TIMEOUT_S)})
    baseline = _open_fds(server)
    kinds = {
        "nothing": b"",
        "partial request line": b"GET /heal",
        "partial headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        "partial body": b'POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"mess',
    }
    sockets = {kind: [_open(server, data) for _ in range(60)] for kind, data in kinds.items()}
    deadline = time.monotonic() + 1.0  # the server accepts them asynchronously
    while _open_fds(server) < baseline + 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open_fds(server) >= baseline + 200  # it holds them now
    slowest = max(_healthz_seconds(server) for _ in range(5))
    time.sleep(READ_TIMEOUT_S + 1.0)
    slowest = max(slowest, *(_healthz_seconds(server) for _ in range(5)))
    for kind, group in sockets.items():
        closed = sum(_closed_by_server(sock) for sock in group)
        assert closed == len(group), f"{kind}: {closed} of {len(group)} closed by the server"
        for sock in group:
            sock.close()
    assert slowest < 1.0, f"/healthz took {slowest:.2f}s while 240 half-open connections were held"
    assert _open_fds(server) <= baseline + 5
    assert "unhandled error" not in server.log()


def test_slow_but_steady_requests_and_idle_keep_alive_are_not_cut(server_factory: Any) -> None:
    """The deadline is per request head and per pause in a body, not a cap on a slow upload."""
    server = server_factory(env={"MLAGENT_REQUEST_READ_TIMEOUT_S": str(READ_TIMEOUT_S)})
    body = b'{"message": "hello there"}'
    sock = _open(server, b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
    sock.sendall(f"Content-Length: {len(body)}\r\n\r\n".encode())
    for index in range(0, len(body), 5):  # ~3.3 s in all, more than twice the timeout, each pause under it
        time.sleep(0.6)
        sock.sendall(body[index : index + 5])
    sock.settimeout(30)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    sock.close()

    # A keep-alive connection that sends half a request after a pause is closed by the deadline as well.
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/healthz").status_code == 200
    late = _open(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    late.settimeout(5)
    assert late.recv(65536).startswith(b"HTTP/1.1 200")
    time.sleep(1.0)  # inside uvicorn's 5 s keep-alive
    late.sendall(b"GET /heal")
    time.sleep(READ_TIMEOUT_S + 1.0)
    assert _closed_by_server(late)
    late.close()


# --- failed authentication ---------------------------------------------------------------------------------


def _client(server: RunningServer, source: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10, transport=httpx.HTTPTransport(local_address=source))


def test_failed_auth_is_rate_limited_per_client(server_factory: Any) -> None:
    server = server_factory(
        env={
            "MLAGENT_API_KEY": "s3cret",
            "MLAGENT_AUTH_MAX_FAILURES": "3",
            "MLAGENT_AUTH_FAILURE_WINDOW_S": "3",
        }
    )
    good = {"Authorization": "Bearer s3cret"}
    with _client(server) as attacker, _client(server, "127.0.0.2") as neighbour:
        for _ in range(3):
            assert attacker.get("/v1/models", headers={"Authorization": "Bearer guess"}).status_code == 401
        limited = attacker.get("/v1/models", headers={"Authorization": "Bearer guess"})
        assert limited.status_code == 429
        retry_after = int(limited.headers["retry-after"])
        assert 1 <= retry_after <= 3
        error = limited.json()["error"]
        assert error["code"] == "too_many_auth_failures" and error["details"] == {
            "retry_after_s": retry_after
        }
        # Locked out whatever the key, so that a right guess cannot be told from a wrong one.
        assert attacker.get("/v1/models", headers=good).status_code == 429
        assert attacker.head("/v1/models", headers=good).status_code == 429
        assert attacker.get("/healthz").status_code == 200  # the probes stay open
        # Another client is not affected, and has its own count.
        assert neighbour.get("/v1/models", headers=good).status_code == 200
        assert neighbour.get("/v1/models").status_code == 401
        time.sleep(retry_after + 0.2)
        assert attacker.get("/v1/models", headers=good).status_code == 200
    assert "unhandled error" not in server.log()


def test_the_auth_failure_limit_can_be_turned_off(server_factory: Any) -> None:
    server = server_factory(env={"MLAGENT_API_KEY": "s3cret", "MLAGENT_AUTH_MAX_FAILURES": "0"})
    with _client(server) as client:
        statuses = {
            client.get("/v1/models", headers={"Authorization": "Bearer x"}).status_code for _ in range(30)
        }
        assert statuses == {401}
        assert client.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
