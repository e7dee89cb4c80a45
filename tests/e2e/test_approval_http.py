"""Approval over HTTP (the real server): a GPU run pauses, the pending action shows in the turn, the stream and
the thread (also after a restart), resume approves, edits or rejects it, and the CLI answers it by flag."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import REPO, RunningServer
from tests.e2e.test_chat_server import sse_events
from tests.samples import TINY_LIGHTNING

pytestmark = pytest.mark.slow
CODE = f"here is my model\n```python\n{TINY_LIGHTNING}```"
GPU_RUN = "smoke-test it on the GPU"


def chat(server: RunningServer, message: str, thread: str) -> dict[str, object]:
    response = httpx.post(
        f"{server.url}/v1/chat", json={"message": message, "thread_id": thread}, timeout=600
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_paused_run_survives_a_restart_and_resumes(server_factory: Callable[..., RunningServer]) -> None:
    env = {"MLAGENT_SMOKE_DEFAULT_STEPS": "4"}
    server = server_factory(env=env)
    chat(server, CODE, "gpu")
    asked = chat(server, GPU_RUN, "gpu")
    pending = asked["pending_action"]
    assert isinstance(pending, dict) and pending["device"] == "cuda" and pending["id"]
    assert "Approval needed" in str(asked["reply"])
    assert httpx.get(f"{server.url}/v1/experiments").json()["experiments"] == []  # nothing ran
    server.stop()

    restarted = server_factory(env=env, data_dir=server.log_path.parent / "data")
    thread = httpx.get(f"{restarted.url}/v1/threads/gpu").json()
    assert thread["pending_action"]["id"] == pending["id"]
    assert not any(message.get("interrupted") for message in thread["messages"])
    resumed = httpx.post(
        f"{restarted.url}/v1/threads/gpu/resume", json={"decision": "edit", "steps": 3}, timeout=600
    )
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    smoke = [call for call in body["tool_calls"] if call["name"] == "smoke_run"]
    assert smoke and smoke[0]["result"]["status"] == "succeeded" and smoke[0]["result"]["steps"] == 3
    assert smoke[0]["result"]["device"] == "cpu" and body["pending_action"] is None
    assert "pending_action" not in httpx.get(f"{restarted.url}/v1/threads/gpu").json()

    again = httpx.post(f"{restarted.url}/v1/threads/gpu/resume", json={"decision": "approve"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_pending_action"
    unknown = httpx.post(f"{restarted.url}/v1/threads/nope/resume", json={"decision": "approve"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "thread_not_found"
    bad = httpx.post(f"{restarted.url}/v1/threads/gpu/resume", json={"decision": "maybe"})
    assert bad.status_code == 422 and "error" in bad.json()


def test_the_stream_shows_the_pending_action_and_reject_runs_nothing(server: RunningServer) -> None:
    chat(server, CODE, "gpu-stream")
    response = httpx.post(
        f"{server.url}/v1/chat/stream", json={"message": GPU_RUN, "thread_id": "gpu-stream"}, timeout=300
    )
    events = sse_events(response)
    names = [name for name, _ in events]
    assert "approval_required" in names and names[-1] == "done"
    assert events[-1][1]["pending_action"]["tool"] == "smoke_run"
    rejected = httpx.post(
        f"{server.url}/v1/threads/gpu-stream/resume", json={"decision": "reject"}, timeout=60
    )
    smoke = [call for call in rejected.json()["tool_calls"] if call["name"] == "smoke_run"]
    assert smoke and smoke[0]["result"]["status"] == "not_started"
    assert httpx.get(f"{server.url}/v1/experiments").json()["experiments"] == []


def test_the_cli_declines_by_flag(server: RunningServer) -> None:
    chat(server, CODE, "gpu-cli")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "chat",
            GPU_RUN,
            "--thread",
            "gpu-cli",
            "--url",
            server.url,
            "--reject",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "Approval needed" in done.stdout and "not started" in done.stdout
    assert "pending_action" not in httpx.get(f"{server.url}/v1/threads/gpu-cli").json()
