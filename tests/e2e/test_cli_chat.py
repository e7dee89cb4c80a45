"""The ``mlagent`` CLI: chat in-process and against a running server, usage errors, structured logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, RunningServer

pytestmark = pytest.mark.slow


def mlagent(
    *args: str, data_dir: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    environment["MLAGENT_DATA_DIR"] = str(data_dir)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=REPO,
        env=environment,
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
    assert "[thread cli-t; tools: explain_checklist_item; in-process, data in " in second.stderr


def test_chat_reads_stdin(tmp_path: Path) -> None:
    result = mlagent("chat", "-", data_dir=tmp_path, stdin="what can you do?")
    assert result.returncode == 0 and "What I can do" in result.stdout


def test_chat_against_server(server: RunningServer, tmp_path: Path) -> None:
    result = mlagent("chat", "hello", "--url", server.url, "--format", "json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    thread_id = json.loads(result.stdout)["thread_id"]
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


def test_chat_uses_the_server_that_holds_its_data_dir_and_says_so(
    server_factory: Callable[..., RunningServer], tmp_path: Path
) -> None:
    data_dir = tmp_path / "shared"
    alone = mlagent("chat", "hello", "--thread", "before", data_dir=data_dir)
    assert alone.returncode == 0, alone.stderr
    assert f"in-process, data in {data_dir.resolve()}]" in alone.stderr

    server = server_factory(data_dir=data_dir)
    result = mlagent("chat", "why does seeding matter?", "--thread", "before", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert f"server {server.url}, which holds the data directory {data_dir.resolve()}]" in result.stderr
    # One conversation: the in-process turn and the server's turn are in the same stored thread.
    history = httpx.get(f"{server.url}/v1/threads/before", timeout=30).json()["messages"]
    assert [m["content"] for m in history if m["role"] == "user"] == ["hello", "why does seeding matter?"]

    elsewhere = mlagent("chat", "hello", data_dir=tmp_path / "other")
    assert elsewhere.returncode == 0 and "in-process, data in" in elsewhere.stderr


def test_mlagent_url_names_the_server(server: RunningServer, tmp_path: Path) -> None:
    env_url = {"MLAGENT_URL": server.url}
    result = mlagent("chat", "hello", "--format", "json", data_dir=tmp_path, env=env_url)
    assert result.returncode == 0, result.stderr
    assert f"server {server.url} (MLAGENT_URL)]" in result.stderr
    thread_id = json.loads(result.stdout)["thread_id"]
    assert httpx.get(f"{server.url}/v1/threads/{thread_id}", timeout=30).status_code == 200
