"""End-to-end: ``/readyz`` tells a usable sandbox (200) from an unusable one (503, with the reason)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import RunningServer

pytestmark = pytest.mark.slow

# A host without cgroups (as in a container that was not delegated any): the server runs in a private mount
# namespace whose /sys/fs/cgroup is an empty tmpfs, so per-run limits cannot be set and runs cannot be isolated.
WITHOUT_CGROUPS = [
    "unshare", "--mount", "--propagation", "private", "--",
    "sh", "-c", 'mount -t tmpfs mlagent-no-cgroups /sys/fs/cgroup && exec "$@"', "mlagent-no-cgroups",
]  # fmt: skip


def test_ready_with_a_usable_sandbox(server: RunningServer) -> None:
    if os.geteuid() != 0:
        pytest.skip("a usable sandbox needs root (the unprivileged case is pinned in test_chat_server)")
    ready = httpx.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["checks"]["sandbox"]["ok"] is True
    assert "bwrap" in body["checks"]["sandbox"]["isolation"]


def test_not_ready_without_cgroups_says_why_and_rejects_runs(
    server_factory: Callable[..., RunningServer],
) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting over /sys/fs/cgroup in a private namespace needs root")
    server = server_factory(wrap=WITHOUT_CGROUPS)
    ready = httpx.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["status"] == "not_ready" and body["checks"]["database"]["ok"] is True
    sandbox = body["checks"]["sandbox"]
    assert sandbox["ok"] is False and sandbox["isolation"] == "none"
    assert "no cgroup v2 root and no v1 memory+pids hierarchies" in sandbox["reason"]
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200  # alive, just not ready

    # And it means it: a smoke run is rejected with that reason, not run unconfined.
    submitted = httpx.post(
        f"{server.url}/v1/smoke-runs", json={"files": {"main.py": "print(1)\n"}}, timeout=10
    ).json()
    deadline = time.monotonic() + 30
    while (run := httpx.get(f"{server.url}/v1/smoke-runs/{submitted['id']}", timeout=10).json())[
        "status"
    ] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    assert run["status"] == "rejected" and sandbox["reason"] in run["error"]
