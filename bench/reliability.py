"""Reliability benchmark: hostile inputs, sustained load, crash rounds and one long thread, against the real server.

Usage: ``.venv/bin/python bench/reliability.py [--clients 50] [--seconds 60] [--rounds 5] [--long-turns 500]``
(``--quick`` for a short smoke of every section). Prints one table per section:

- hostile inputs: each input's status code and time, and the slowest ``/healthz`` answer while it ran;
- load: N clients, each on its own thread, for T seconds: requests, errors (5xx or a failed request), latency
  p50/p95/p99, server RSS before/after, and whether every thread's history holds exactly its acknowledged turns;
- crash rounds: a burst of concurrent turns, ``kill -9`` mid-burst, restart on the same data dir: acknowledged
  turns lost (must be 0) and interrupted turns shown as such;
- long thread: ``bench/long_thread.py`` (turn time at 10/100/500 turns, database size, bytes per message).

Only loopback traffic; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import HealthProbe, RunningServer, start_server  # noqa: E402

PLAIN_LOOP = "import torch\nfor x, y in loader:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _hostile_inputs() -> dict[str, tuple[str, dict[str, Any] | bytes]]:
    code = {
        "parentheses x1300": "import torch\nx = " + "(" * 1300 + "1" + ")" * 1300,
        "subscripts x3000": "import torch\nx = a" + "[0]" * 3000,
        "additions x50000": "import torch\nx = " + "+".join(["a"] * 50_000),
        "flat 650 KB file": "import torch\n"
        + "".join(f"v{i} = torch.tensor([{i}, {i} + 1])\n" for i in range(16_000)),
    }
    cases: dict[str, tuple[str, dict[str, Any] | bytes]] = {}
    for name, text in code.items():
        cases[f"review: {name}"] = ("/v1/review", {"code": text})
        if len(text) < 190_000:
            cases[f"chat: {name}"] = ("/v1/chat", {"message": f"review this:\n```python\n{text}\n```"})
    cases["chat: JSON nested x100000"] = (
        "/v1/chat",
        b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    )
    cases["chat: 3 MB body"] = ("/v1/chat", {"message": "x" * 3_000_000})
    cases["chat: NUL bytes"] = ("/v1/chat", {"message": "hi\u0000there"})
    cases["completions: deep code"] = (
        "/v1/chat/completions",
        {
            "messages": [
                {"role": "user", "content": "review:\n```python\n" + code["subscripts x3000"] + "\n```"}
            ]
        },
    )
    return cases


def hostile_section(server: RunningServer) -> None:
    print("\n## Hostile inputs (server answers /healthz throughout)\n")
    print("| input | route | status | time s | worst /healthz s |")
    print("|---|---|---|---|---|")
    for name, (route, body) in _hostile_inputs().items():
        with HealthProbe(server.url) as probe:
            started = time.monotonic()
            try:
                if isinstance(body, bytes):
                    response = httpx.post(
                        f"{server.url}{route}",
                        content=body,
                        headers={"content-type": "application/json"},
                        timeout=120,
                    )
                else:
                    response = httpx.post(f"{server.url}{route}", json=body, timeout=120)
                status = str(response.status_code)
            except httpx.HTTPError as error:
                status = f"failed ({type(error).__name__})"
            elapsed = time.monotonic() - started
        print(f"| {name} | {route} | {status} | {elapsed:.2f} | {probe.worst:.3f} |")
    alive = server.process.poll() is None
    print(f"\nserver still running after all hostile inputs: {'yes' if alive else 'NO'}")


LOAD_MESSAGES = [
    "hi",
    "explain MLR006",
    f"review this:\n```python\n{PLAIN_LOOP}```",
    "how do I use DDP on 4 GPUs?",
]


def load_section(server: RunningServer, clients: int, seconds: float) -> None:
    print(f"\n## Load: {clients} clients x {seconds:g} s (each client on its own thread)\n")
    process = psutil.Process(server.process.pid)
    rss_before = process.memory_info().rss / 2**20
    latencies: list[float] = []
    errors: list[str] = []
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client_loop(number: int) -> None:
        thread_id = f"load-{number}"
        done = 0
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    response = client.post(
                        f"{server.url}/v1/chat",
                        json={"message": LOAD_MESSAGES[done % len(LOAD_MESSAGES)], "thread_id": thread_id},
                    )
                    ok = response.status_code == 200
                    if not ok:
                        with lock:
                            errors.append(str(response.status_code))
                except httpx.HTTPError as error:
                    ok = False
                    with lock:
                        errors.append(type(error).__name__)
                with lock:
                    latencies.append(time.monotonic() - started)
                if ok:
                    done += 1
        with lock:
            acknowledged[thread_id] = done

    workers = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rss_after = process.memory_info().rss / 2**20
    mismatched = 0
    for thread_id, turns in acknowledged.items():
        history = httpx.get(f"{server.url}/v1/threads/{thread_id}", timeout=30).json().get("messages", [])
        users = [m for m in history if m["role"] == "user"]
        if len(users) != turns:
            mismatched += 1
    print(
        "| requests | errors | p50 s | p95 s | p99 s | RSS before MB | RSS after MB | threads with lost turns |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(latencies)} | {len(errors)} | {percentile(latencies, 0.5):.3f} | {percentile(latencies, 0.95):.3f} "
        f"| {percentile(latencies, 0.99):.3f} | {rss_before:.0f} | {rss_after:.0f} | {mismatched} |"
    )
    if errors:
        print(f"\nerrors by kind: {statistics.multimode(errors)}")


def crash_section(data_dir: Path, rounds: int, start: Callable[[], RunningServer]) -> None:
    print(f"\n## Crash rounds: kill -9 mid-burst x{rounds}\n")
    print("| round | acknowledged turns | lost | interrupted turns shown | restart s |")
    print("|---|---|---|---|---|")
    for round_number in range(1, rounds + 1):
        server = start()
        acknowledged: list[tuple[str, str]] = []
        lock = threading.Lock()

        def burst(
            number: int,
            url: str = server.url,
            rn: int = round_number,
            acknowledged: list[tuple[str, str]] = acknowledged,
            lock: threading.Lock = lock,
        ) -> None:
            thread_id = f"crash-{rn}-{number}"
            with httpx.Client(timeout=30) as client:
                for turn in range(50):
                    message = f"explain MLR00{1 + turn % 9} please ({turn})"
                    try:
                        response = client.post(
                            f"{url}/v1/chat", json={"message": message, "thread_id": thread_id}
                        )
                    except httpx.HTTPError:
                        return
                    if response.status_code == 200:
                        with lock:
                            acknowledged.append((thread_id, message))

        workers = [threading.Thread(target=burst, args=(n,)) for n in range(10)]
        for worker in workers:
            worker.start()
        # Kill mid-burst: once turns are being acknowledged (the first turns of a fresh server are slower).
        waited = time.monotonic() + 30
        while len(acknowledged) < 10 and time.monotonic() < waited:
            time.sleep(0.05)
        time.sleep(0.3)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        for worker in workers:
            worker.join()
        started = time.monotonic()
        server = start()
        restart = time.monotonic() - started
        lost = interrupted = 0
        threads = {thread_id for thread_id, _ in acknowledged}
        for thread_id in threads:
            history = httpx.get(f"{server.url}/v1/threads/{thread_id}", timeout=30).json().get("messages", [])
            users = {m["content"] for m in history if m["role"] == "user"}
            lost += sum(1 for t, message in acknowledged if t == thread_id and message not in users)
            interrupted += sum(1 for m in history if m.get("interrupted"))
        server.stop()
        print(f"| {round_number} | {len(acknowledged)} | {lost} | {interrupted} | {restart:.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--long-turns", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="10 clients x 10 s, 2 rounds, 100 turns")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.seconds, args.rounds, args.long_turns = 10, 10, 2, 100
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data")
        try:
            hostile_section(server)
            load_section(server, args.clients, args.seconds)
        finally:
            server.stop()
        crash_dir = Path(tmp) / "crash"
        crash_section(crash_dir, args.rounds, lambda: start_server(crash_dir))
    print("\n## One long thread\n")
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "long_thread.py"), "--turns", str(args.long_turns)], check=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
