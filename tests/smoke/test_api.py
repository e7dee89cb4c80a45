"""The smoke-run and experiment routes on the real app (lifespan included) with real sandboxed runs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.service import create_app
from tests.smoke.conftest import TINY_MODULE, leftover_run_dirs, make_settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path / "data"))
    with TestClient(app) as test_client:
        yield test_client


def _sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def _wait_final(client: TestClient, run_id: str, timeout_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = client.get(f"/v1/smoke-runs/{run_id}").json()
        if body["status"] not in ("queued", "running"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_submit_poll_stream_and_experiment_routes(client: TestClient) -> None:
    response = client.post("/v1/smoke-runs", json={"files": {"model.py": TINY_MODULE}, "steps": 4})
    assert response.status_code == 202, response.text
    body = response.json()
    run_id = body["id"]
    assert body["status"] == "queued" and response.headers["location"] == f"/v1/smoke-runs/{run_id}"

    with client.stream("GET", f"/v1/smoke-runs/{run_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _sse(stream.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "status" and kinds[-1] == "done"
    assert kinds.count("step") == 4
    final = events[-1][1]
    assert final["status"] == "succeeded", final
    assert client.get(f"/v1/smoke-runs/{run_id}").json() == final

    experiment_id = final["experiment_id"]
    listed = client.get("/v1/experiments").json()
    assert listed["total"] == 1 and listed["experiments"][0]["id"] == experiment_id
    shown = client.get(f"/v1/experiments/{experiment_id}").json()
    assert shown["metrics"]["losses"] == final["losses"] and shown["files"] is None
    assert client.get(f"/v1/experiments/{experiment_id}?include_files=true").json()["files"] == {
        "model.py": TINY_MODULE
    }
    plot = client.get(f"/v1/experiments/{experiment_id}/plot?format=png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    assert plot.content.startswith(b"\x89PNG")

    # Reproduce: same files and seed give the same loss curve (and a second experiment to compare with).
    report = client.post(f"/v1/experiments/{experiment_id}/reproduce").json()
    assert report["matches"], report["curve"]
    again = report["reproduction_id"]
    compared = client.get(f"/v1/experiments/compare?ids={experiment_id},{again}").json()
    assert compared["same_code"] and set(compared["loss_curves"]) == {experiment_id, again}
    svg = client.get(f"/v1/experiments/compare/plot?ids={experiment_id},{again}&format=svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content


def test_delete_cancels_a_running_run(client: TestClient, tmp_path: Path) -> None:
    slow = TINY_MODULE.replace(
        "        images, labels = batch", "        time.sleep(0.3)\n        images, labels = batch"
    )
    body = {"files": {"model.py": "import time\n" + slow}, "steps": 1000}
    run_id = client.post("/v1/smoke-runs", json=body).json()["id"]
    deadline = time.monotonic() + 30
    while client.get(f"/v1/smoke-runs/{run_id}").json()["steps"] < 2:  # cancel in mid-training
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # The API stays responsive while training runs (runs live on worker threads, not the event loop).
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    assert time.monotonic() - started < 1.0
    cancelled = client.delete(f"/v1/smoke-runs/{run_id}")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert len(cancelled.json()["losses"]) >= 2  # the steps it made are kept
    assert client.get(f"/v1/smoke-runs/{run_id}").json()["status"] == "cancelled"
    assert leftover_run_dirs(make_settings(tmp_path / "data")) == []


def test_errors_are_clear(client: TestClient) -> None:
    for path in ("/v1/smoke-runs/run-nope", "/v1/smoke-runs/run-nope/events", "/v1/experiments/exp-nope"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert client.delete("/v1/smoke-runs/run-nope").status_code == 404
    assert client.post("/v1/experiments/exp-nope/reproduce").status_code == 404
    missing = client.get("/v1/experiments/compare?ids=exp-a,exp-b").json()
    assert missing["error"]["details"]["ids"] == ["exp-a", "exp-b"]

    bad: dict[str, Any]
    for bad in (
        {},
        {"files": {}},
        {"files": {"../escape.py": "x"}},
        {"files": {"notes.txt": "no python"}},
        {"files": {"m.py": "x"}, "steps": 0},
        {"files": {"m.py": "x"}, "device": "tpu"},
        {"files": {"m.py": "x"}, "stepz": 3},
    ):
        response = client.post("/v1/smoke-runs", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["message"]
    single = client.get("/v1/experiments/compare?ids=exp-a")
    assert single.status_code == 422

    too_big = {"files": {f"m{i}.py": "x = 1\n" * 20_000 for i in range(12)}}
    response = client.post("/v1/smoke-runs", json=too_big)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
