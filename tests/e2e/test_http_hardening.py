"""HTTP-level hardening against the real server: HEAD on GET routes, half-open connections, auth rate limit."""

from __future__ import annotations

import re
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
