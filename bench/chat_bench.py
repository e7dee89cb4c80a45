"""Agent service benchmark: server start time and offline chat-turn latency over real HTTP.

Usage: ``.venv/bin/python bench/chat_bench.py [--turns N]``. Starts ``mlagent serve`` on a free loopback port
with a fresh data dir, then times N turns per request kind (sequential, one client) and prints a table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import start_server
from tests.samples import PLAIN_LOOP

REQUESTS = {
    "help": "what can you do?",
    "explain": "why does gradient clipping matter?",
    "recommend": "which architecture for real-time detection on a jetson with 5 classes?",
    "review (19-line loop)": f"review this:\n```python\n{PLAIN_LOOP}```",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        server = start_server(Path(tmp) / "data")
        start_s = time.perf_counter() - started
        try:
            rows = []
            with httpx.Client(base_url=server.url, timeout=120) as client:
                for kind, message in REQUESTS.items():
                    client.post("/v1/chat", json={"message": message})  # warm-up (lazy imports)
                    times = []
                    for _ in range(args.turns):
                        t0 = time.perf_counter()
                        response = client.post("/v1/chat", json={"message": message})
                        times.append((time.perf_counter() - t0) * 1000)
                        response.raise_for_status()
                    rows.append((kind, statistics.median(times), percentile(times, 0.95), max(times)))
        finally:
            server.stop()
    print(f"server start (spawn -> /healthz 200): {start_s:.2f} s")
    print(
        f"{'request':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   ({args.turns} turns each, offline planner)"
    )
    for kind, p50, p95, worst in rows:
        print(f"{kind:<24} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
