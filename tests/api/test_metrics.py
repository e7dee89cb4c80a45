"""``GET /metrics`` on a real server: turns, tool calls, latencies and smoke runs, behind the API key."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RunningServer
from tests.samples import PLAIN_LOOP

KEY = "metrics-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _samples(server: RunningServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{server.url}/metrics", headers=AUTH, timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_turns_tool_calls_latencies_and_smoke_runs(
    server_factory: Callable[..., RunningServer],
) -> None:
    server = server_factory(env={"MLAGENT_API_KEY": KEY})
    denied = httpx.get(f"{server.url}/metrics", timeout=10)
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"

    before = _samples(server)
    assert before[("mlagent_smoke_queue_depth", ())] == 0
    turn = httpx.post(
        f"{server.url}/v1/chat",
        json={"message": f"review this:\n```python\n{PLAIN_LOOP}```"},
        headers=AUTH,
        timeout=120,
    )
    assert turn.status_code == 200 and [call["name"] for call in turn.json()["tool_calls"]] == ["review_code"]
    refused = httpx.post(f"{server.url}/v1/chat", json={"message": " "}, headers=AUTH, timeout=30)
    assert refused.status_code == 422
    # A run the sandbox refuses at once (no Lightning import): recorded as a failed experiment in about 1 s.
    run = httpx.post(
        f"{server.url}/v1/smoke-runs", json={"files": {"model.py": "x = 1\n"}}, headers=AUTH, timeout=30
    ).json()
    httpx.get(f"{server.url}/v1/smoke-runs/{run['id']}/events", headers=AUTH, timeout=120)

    after = _samples(server)
    turns = ("mlagent_turns_total", (("endpoint", "chat"), ("outcome", "ok")))
    assert after[turns] == 1
    assert after[("mlagent_turns_total", (("endpoint", "chat"), ("outcome", "client_error")))] == 1
    assert after[("mlagent_turn_duration_seconds_count", (("endpoint", "chat"),))] == 2
    assert after[("mlagent_turn_duration_seconds_sum", (("endpoint", "chat"),))] > 0
    assert after[("mlagent_tool_calls_total", (("status", "ok"), ("tool", "review_code")))] == 1
    assert after[("mlagent_tool_duration_seconds_count", (("tool", "review_code"),))] == 1
    routes = {dict(labels).get("route") for name, labels in after if name == "mlagent_http_requests_total"}
    assert {"/v1/chat", "/v1/smoke-runs", "/v1/smoke-runs/{run_id}/events", "/metrics"} <= routes
    assert not any(route and "run-" in route for route in routes), "raw ids must not become labels"
    assert after[("mlagent_smoke_runs", (("status", "failed"),))] == 1
    assert after[("mlagent_smoke_queue_depth", ())] == 0 and after[("mlagent_smoke_runs_running", ())] == 0
