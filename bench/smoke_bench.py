"""Smoke-run throughput benchmark: runs per minute at each concurrency, time to first step, event-loop lag.

Usage: ``.venv/bin/python bench/smoke_bench.py [--runs 6] [--steps 10] [--concurrency 1,2] [--backend local]``.
For each concurrency it starts a ``SmokeRunManager`` with a fresh data dir, submits ``--runs`` tiny real
Lightning runs at once and waits for all of them, while a ticker coroutine measures how late the event
loop wakes up (what an HTTP client of the server would feel). Prints one table row per concurrency:
``start s`` is the manager start-up (reaping, sandbox probe, and for ``--backend ray`` the Ray start), ``wall s``
the time from the first submit to the last result.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import Settings
from sandbox.manager import SmokeRunManager
from sandbox.spec import RunSpec
from tests.smoke.conftest import TINY_MODULE

TICK_S = 0.01


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def _measure_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """Sleep TICK_S repeatedly; the oversleep is the loop's lag."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(TICK_S)
        lags.append(time.perf_counter() - before - TICK_S)


async def bench_one(
    concurrency: int, runs: int, steps: int, backend: str, data_dir: Path
) -> dict[str, float]:
    settings = Settings(data_dir=data_dir, smoke_concurrency=concurrency, sandbox_backend=backend)  # type: ignore[arg-type]
    begun = time.perf_counter()
    async with SmokeRunManager(settings) as manager:
        start_s = time.perf_counter() - begun  # reaping, sandbox probe, Ray start for the ray backend
        lags: list[float] = []
        stop = asyncio.Event()
        ticker = asyncio.create_task(_measure_lag(stop, lags))
        started = time.perf_counter()
        ids = [
            manager.submit(RunSpec(files={"model.py": TINY_MODULE}, steps=steps, seed=i)) for i in range(runs)
        ]
        results = [await manager.wait(run_id) for run_id in ids]
        wall = time.perf_counter() - started
        stop.set()
        await ticker
    for failed in (r for r in results if r.status != "succeeded"):
        print(f"concurrency {concurrency}: run {failed.id} {failed.status}: {failed.error}", file=sys.stderr)
    first_steps = [r.time_to_first_step_s for r in results if r.time_to_first_step_s is not None]
    return {
        "succeeded": sum(r.status == "succeeded" for r in results),
        "start_s": start_s,
        "wall_s": wall,
        "runs_per_min": runs / wall * 60,
        "run_s": statistics.median(r.duration_s for r in results),
        "first_step_s": statistics.median(first_steps) if first_steps else float("nan"),
        "lag_p50_ms": percentile(lags, 0.5) * 1000,
        "lag_p99_ms": percentile(lags, 0.99) * 1000,
        "lag_max_ms": max(lags, default=0.0) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--concurrency", default="1,2", help="comma-separated concurrency levels")
    parser.add_argument("--backend", choices=["local", "ray"], default="local")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    rows = []
    for level in levels:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(
                (level, asyncio.run(bench_one(level, args.runs, args.steps, args.backend, Path(tmp))))
            )
    print(f"smoke runs: {args.runs} tiny Lightning runs x {args.steps} steps, backend {args.backend}")
    header = (
        f"{'concurrency':>11} {'ok':>5} {'start s':>8} {'wall s':>7} {'runs/min':>9} {'run s p50':>10} {'1st step s':>11}"
        f" {'lag p50 ms':>11} {'lag p99 ms':>11} {'lag max ms':>11}"
    )
    print(header)
    for level, row in rows:
        print(
            f"{level:>11} {int(row['succeeded']):>2}/{args.runs:<2} {row['start_s']:>8.2f} {row['wall_s']:>7.1f} {row['runs_per_min']:>9.1f} {row['run_s']:>10.2f}"
            f" {row['first_step_s']:>11.2f} {row['lag_p50_ms']:>11.1f} {row['lag_p99_ms']:>11.1f}"
            f" {row['lag_max_ms']:>11.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
