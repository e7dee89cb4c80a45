"""Hostile code against the real server: no parse can crash it, freeze it, or take more than its limits.

Each input goes to every route that parses submitted code (``/v1/review``, a fenced block in ``/v1/chat``,
``/v1/chat/completions``) while a second client polls ``/healthz``: the server must answer that probe within a
second during and after every request, and the request itself must get a normal answer or a clear 4xx.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import HealthProbe, RunningServer
from tests.review.test_guard import HOSTILE

pytestmark = pytest.mark.slow


def _flat_file(lines: int) -> str:
    return "import torch\n" + "".join(
        f"value_{i} = torch.tensor([{i}, {i} + 1, {i} * 2])\n" for i in range(lines)
    )


# Large, flat, valid files: nothing for the guard to refuse, but more than the 1 s review deadline of these tests
# allows (in-process: about 2 s for the chat-sized one on an idle 2-core machine, 10 s for the other).
HUGE = _flat_file(12_000)
HUGE_FOR_CHAT = _flat_file(3_500)  # the chat's message limit is 200,000 characters


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from tests.conftest import start_server

    running = start_server(
        tmp_path_factory.mktemp("hostile") / "data",
        {"MLAGENT_REVIEW_TIMEOUT_S": "1", "MLAGENT_REVIEW_WORKERS": "2"},
    )
    yield running
    running.stop()


def _review(url: str, code: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/review", json={"code": code}, timeout=60)


def _chat(url: str, code: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat", json={"message": f"review this:\n```python\n{code}\n```"}, timeout=60)


def _completions(url: str, code: str) -> httpx.Response:
    body = {
        "model": "mlagent",
        "messages": [{"role": "user", "content": f"review this:\n```python\n{code}\n```"}],
    }
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60)


ROUTES: dict[str, Callable[[str, str], httpx.Response]] = {
    "review": _review,
    "chat": _chat,
    "completions": _completions,
}


def _text_of(route: str, response: httpx.Response) -> str:
    body: Any = response.json()
    if route == "review":
        return " ".join(f["message"] for f in body["findings"] if f["rule"] == "MLR000")
    if route == "chat":
        return str(body["reply"])
    return str(body["choices"][0]["message"]["content"])


@pytest.mark.parametrize("route", sorted(ROUTES))
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_nesting_gets_an_answer_and_the_server_stays_up(
    strict_server: RunningServer, route: str, name: str
) -> None:
    with HealthProbe(strict_server.url) as probe:
        started = time.monotonic()
        response = ROUTES[route](strict_server.url, HOSTILE[name])
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text[:300]
    assert "nests too deeply" in _text_of(route, response) or "indentation" in _text_of(route, response)
    assert elapsed < 5, f"{route}/{name} took {elapsed:.1f} s"
    assert probe.worst < 1.0, f"/healthz took {probe.worst:.2f} s during {route}/{name}"
    assert strict_server.process.poll() is None


def test_a_review_past_its_deadline_is_stopped_and_healthz_keeps_answering(
    strict_server: RunningServer,
) -> None:
    with HealthProbe(strict_server.url) as probe:
        response = _review(strict_server.url, HUGE)
    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "review_too_slow" and "1 s limit" in error["message"]
    assert probe.worst < 1.0, f"/healthz took {probe.worst:.2f} s"
    # The pool replaced the killed worker: an ordinary review works at once.
    assert _review(strict_server.url, "import torch\nx = torch.zeros(2)\n").status_code == 200


def test_the_chat_explains_a_review_past_its_deadline(strict_server: RunningServer) -> None:
    response = _chat(strict_server.url, HUGE_FOR_CHAT)
    assert response.status_code == 200, response.text[:300]
    reply = response.json()["reply"]
    assert "1 s limit" in reply and "Traceback" not in reply


def test_concurrent_hostile_reviews_leave_the_server_answering(strict_server: RunningServer) -> None:
    results: list[int] = []

    def hit() -> None:
        results.append(_review(strict_server.url, HUGE).status_code)

    with HealthProbe(strict_server.url) as probe:
        threads = [threading.Thread(target=hit) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(results) == [422] * 4
    assert probe.worst < 1.0, f"/healthz took {probe.worst:.2f} s"
