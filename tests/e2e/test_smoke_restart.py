"""End-to-end: a server killed (kill -9) in the middle of a smoke run loses neither the run nor its losses.

The run is recorded when the server accepts it and its streamed losses are written as they come; the next
server on the same data dir marks it failed ("the server restarted during the run") and keeps those losses,
and ``GET /v1/smoke-runs/{id}`` answers that record instead of 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sandbox.experiments import RESTARTED_ERROR
from tests.conftest import RunningServer
from tests.smoke.conftest import TINY_MODULE

pytestmark = pytest.mark.slow

# The tiny module of the smoke tests, slowed to ~0.3 s a step so that a kill lands mid-run.
SLOW_MODULE = TINY_MODULE.replace(
    "    def training_step(self, batch, batch_idx):\n",
    "    def training_step(self, batch, batch_idx):\n        import time\n\n        time.sleep(0.3)\n",
)


def _get(server: RunningServer, path: str) -> Any:
    response = httpx.get(f"{server.url}{path}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _wait_for_losses(server: RunningServer, run_id: str, count: int, timeout_s: float = 90.0) -> list[float]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = _get(server, f"/v1/smoke-runs/{run_id}")
        assert body["status"] in ("queued", "running"), body
        if len(body["losses"]) >= count:
            return list(body["losses"])
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_a_run_interrupted_by_kill_9_is_failed_with_its_losses_after_restart(
    server_factory: Callable[..., RunningServer], tmp_path: Any
) -> None:
    data_dir = tmp_path / "data"
    first = server_factory(data_dir=data_dir)
    if not httpx.get(f"{first.url}/readyz", timeout=30).json()["checks"]["sandbox"]["ok"]:
        pytest.skip("the sandbox is not usable here (needs root and bubblewrap): no run can start")
    body = {"files": {"model.py": SLOW_MODULE}, "steps": 200, "timeout_s": 300}
    running = httpx.post(f"{first.url}/v1/smoke-runs", json=body, timeout=10).json()["id"]
    queued = httpx.post(f"{first.url}/v1/smoke-runs", json=body, timeout=10).json()["id"]  # one slot: waits

    seen = _wait_for_losses(first, running, 3)
    time.sleep(1.0)  # longer than the manager's loss flush interval: these losses are on disk now
    assert _get(first, f"/v1/smoke-runs/{queued}")["status"] == "queued"
    first.process.kill()  # SIGKILL: no shutdown hook runs
    first.process.wait(timeout=10)

    second = server_factory(data_dir=data_dir)
    run = _get(second, f"/v1/smoke-runs/{running}")
    assert run["status"] == "failed" and run["error"] == RESTARTED_ERROR, run
    assert run["losses"][: len(seen)] == seen and run["steps"] == len(run["losses"]) >= len(seen)
    assert run["experiment_id"]
    waiting = _get(second, f"/v1/smoke-runs/{queued}")
    assert waiting["status"] == "failed" and waiting["error"].startswith(RESTARTED_ERROR), waiting
    assert waiting["losses"] == []

    listed = {e["run_id"]: e for e in _get(second, "/v1/experiments")["experiments"]}
    assert listed[running]["id"] == run["experiment_id"] and listed[running]["status"] == "failed"
    assert listed[queued]["status"] == "failed"
    shown = _get(second, f"/v1/experiments/{run['experiment_id']}")
    assert shown["metrics"]["losses"] == run["losses"] and shown["metrics"]["error"] == RESTARTED_ERROR
    assert "interrupted by a server restart" in second.log()

    # A third start finds nothing left to recover: the records are final and stay as they are.
    second.stop()
    third = server_factory(data_dir=data_dir)
    assert _get(third, f"/v1/smoke-runs/{running}") == run
    assert "interrupted by a server restart" not in third.log()
