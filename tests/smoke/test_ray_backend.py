"""The Ray backend in a private local Ray instance: one real training run and one cancellation.

Ray starts in ~2-3 s and each run gets a fresh worker (max_calls=1), so the whole module takes ~15 s.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from sandbox.manager import SmokeRunManager
from tests.smoke.conftest import (
    leftover_run_dirs,
    lightning_spec,
    live_sandbox_processes,
    make_settings,
    sleeper,
)

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_runs_and_cancels_through_ray(tmp_path) -> None:
    settings = make_settings(tmp_path / "data", sandbox_backend="ray")

    async def scenario() -> None:
        async with SmokeRunManager(settings) as manager:
            assert manager.backend.name == "ray"
            assert (manager.isolation or "").startswith("ray+")

            trained = manager.submit(lightning_spec(steps=3))
            steps_seen = [e async for e in manager.subscribe(trained) if e["type"] == "step"]
            result = manager.get(trained)
            assert result.status == "succeeded", result.error
            assert len(result.losses) == 3 and len(steps_seen) == 3
            assert manager.store is not None
            assert manager.store.get(result.experiment_id or "").environment.backend == "ray"

            endless = manager.submit(sleeper(120))
            deadline = time.monotonic() + 60
            while not any(e["type"] == "log" for e in manager._runs[endless].logs):  # the script is alive
                assert time.monotonic() < deadline, manager.get(endless)
                await asyncio.sleep(0.05)
            started = time.monotonic()
            cancelled = await manager.cancel(endless)
            assert cancelled.status == "cancelled"
            assert time.monotonic() - started < 15
            assert live_sandbox_processes(endless) == []
            assert leftover_run_dirs(settings) == []

    asyncio.run(scenario())
