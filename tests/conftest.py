"""Shared fixtures: a real ``mlagent serve`` process on a free loopback port, with its own data dir."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
# Warm sandboxes (sandbox/warm.py) cost ~400 MB and seconds of CPU per service; the tests that measure them
# ask for them explicitly, every other test's services run cold.
os.environ.setdefault("MLAGENT_SMOKE_WARM_SANDBOXES", "0")
# What the review engine logs when a rule or a checklist judge raises (logged in strict mode too, before the
# error propagates): a test whose server logged one of these fails, even if the response looked fine.
RULE_CRASH = re.compile(r"review rule \S+ crashed|judging \S+ crashed|judged fail without a finding")


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback only)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    """A started server process and how to talk to it."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rule_crashes(self) -> list[str]:
        """Log lines saying that a review rule or judge crashed (none may appear in a passing test)."""
        return [line[:500] for line in self.log().splitlines() if RULE_CRASH.search(line)]


def check_no_rule_crash(servers: list[RunningServer]) -> None:
    """Teardown check of every server a test started: fail the test on any "rule crashed" log line."""
    crashes = [line for server in servers for line in server.rule_crashes()]
    if crashes:
        pytest.fail("the review engine crashed in the server:\n" + "\n".join(crashes), pytrace=False)


def start_server(
    data_dir: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 60.0,
    wrap: list[str] | None = None,
) -> RunningServer:
    """Start ``python -m agent.cli serve`` and wait until /healthz answers.

    The review engine runs strict (a crashing rule raises instead of being skipped). ``wrap`` is a command
    prefix that ends by exec-ing the server (e.g. ``unshare ... sh -c '...; exec "$@"' sh``).
    """
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MLAGENT_", "OPENAI_"))}
    environment.update(
        {
            "MLAGENT_DATA_DIR": str(data_dir),
            "PYTHONUNBUFFERED": "1",
            "MLAGENT_REVIEW_STRICT": "1",
            "MLAGENT_SMOKE_WARM_SANDBOXES": "0",
        }
    )
    environment.update(env or {})
    log_path = data_dir.parent / f"server-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                *(wrap or []),
                *(sys.executable, "-m", "agent.cli", "serve", "--host", "127.0.0.1", "--port", str(port)),
            ],
            cwd=REPO,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not start in {timeout_s}s:\n{server.log()}")


class HealthProbe:
    """Polls /healthz from another thread and records the slowest answer (a failed probe counts as 99 s)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    ok = client.get(f"{self.url}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.worst = max(self.worst, time.monotonic() - started if ok else 99.0)
                self._stop.wait(0.1)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """Start servers on demand; every one is stopped at the end of the test."""
    started: list[RunningServer] = []

    def factory(
        env: dict[str, str] | None = None, data_dir: Path | None = None, wrap: list[str] | None = None
    ) -> RunningServer:
        server = start_server(data_dir or tmp_path / "data", env, wrap=wrap)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
    check_no_rule_crash(started)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server with the default (offline) configuration, shared by a test module (start-up costs ~3 s)."""
    running = start_server(tmp_path_factory.mktemp("server") / "data")
    yield running
    running.stop()
    check_no_rule_crash([running])
