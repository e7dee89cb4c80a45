"""The ``mlagent`` CLI: chat in-process and against a running server, usage errors, structured logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, RunningServer

pytestmark = pytest.mark.slow


def mlagent(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    env["MLAGENT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chat_in_process_keeps_the_thread(tmp_path: Path) -> None:
    first = mlagent("chat", "hello", "--thread", "cli-t", "--format", "json", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["thread_id"] == "cli-t"
    second = mlagent("chat", "why does seeding matter?", "--thread", "cli-t", data_dir=tmp_path)
    assert second.returncode == 0
    assert "seed_everything" in second.stdout
    assert "[thread cli-t; tools: explain_checklist_item]" in second.stderr


def test_chat_reads_stdin(tmp_path: Path) -> None:
    result = mlagent("chat", "-", data_dir=tmp_path, stdin="what can you do?")
    assert result.returncode == 0 and "What I can do" in result.stdout


def test_chat_against_server(server: RunningServer, tmp_path: Path) -> None:
    result = mlagent("chat", "hello", "--url", server.url, "--format", "json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    thread_id = json.loads(result.stdout)["thread_id"]
    import httpx

    assert httpx.get(f"{server.url}/v1/threads/{thread_id}").status_code == 200
    # The server writes one JSON object per log line, including the access line of that request.
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    access = [
        line for line in lines if line.get("logger") == "mlagent.access" and line.get("path") == "/v1/chat"
    ]
    assert access and access[0]["status"] == 200 and "duration_ms" in access[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "required"),
        (("chat",), "message"),
        (("chat", "   "), "empty"),
        (("nosuchcommand",), "invalid choice"),
        (("chat", "hi", "--url", "http://127.0.0.1:9"), "cannot reach"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    result = mlagent(*args, data_dir=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
