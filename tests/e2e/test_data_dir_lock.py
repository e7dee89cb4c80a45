"""One process per data directory (issue 12, item 6, SQLite case).

Two servers on one SQLite thread database lost a third of their acknowledged turns: each serialised turns with
its own in-memory lock only. Now the second process is refused at start-up, before it binds a port, with a
one-line message and exit 2; the in-process ``mlagent chat`` says that the server holds the directory and how
to reach it; and the lock dies with its process (kill -9 included), so a restart is never blocked.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, RunningServer, free_port

pytestmark = pytest.mark.slow


def mlagent(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    env["MLAGENT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_second_server_and_in_process_chat_are_refused(
    server_factory: Callable[..., RunningServer], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = server_factory(data_dir=data_dir)
    assert (
        httpx.post(f"{first.url}/v1/chat", json={"message": "hello", "thread_id": "kept"}).status_code == 200
    )

    port = free_port()
    started = time.monotonic()
    second = mlagent("serve", "--port", str(port), data_dir=data_dir)
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
    assert f"in use by mlagent serve on {first.url} (pid {first.process.pid})" in lines[0]
    assert "MLAGENT_DATA_DIR" in lines[0]
    assert time.monotonic() - started < 30 and port_is_free(port)

    # mlagent chat on the same data directory does not write behind the server's back: it talks to it.
    chat = mlagent("chat", "what can you do?", "--thread", "kept", data_dir=data_dir)
    assert chat.returncode == 0, chat.stderr
    assert f"server {first.url}, which holds the data directory" in chat.stderr
    roles = [m["role"] for m in httpx.get(f"{first.url}/v1/threads/kept").json()["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]


def test_the_lock_dies_with_a_killed_server(
    server_factory: Callable[..., RunningServer], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = server_factory(data_dir=data_dir)
    assert (
        httpx.post(f"{first.url}/v1/chat", json={"message": "hello", "thread_id": "survives"}).status_code
        == 200
    )
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    chat = mlagent("chat", "what can you do?", "--thread", "survives", data_dir=data_dir)
    assert chat.returncode == 0, chat.stderr
    restarted = server_factory(data_dir=data_dir)
    roles = [m["role"] for m in httpx.get(f"{restarted.url}/v1/threads/survives").json()["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
