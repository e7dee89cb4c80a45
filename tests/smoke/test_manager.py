"""The smoke-run queue with real sandboxed runs: statuses, concurrency, cancellation, live events."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core.settings import Settings
from sandbox.experiments import ExperimentStore
from sandbox.manager import SmokeRunManager, UnknownRun
from tests.smoke.conftest import (
    leftover_run_dirs,
    lightning_spec,
    live_sandbox_processes,
    make_settings,
    script_spec,
    sleeper,
)


async def _wait_status(manager: SmokeRunManager, run_id: str, status: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while manager.get(run_id).status != status:
        assert time.monotonic() < deadline, f"{run_id} never reached {status}: {manager.get(run_id)}"
        await asyncio.sleep(0.02)


async def _collect(manager: SmokeRunManager, run_id: str) -> list[dict[str, Any]]:
    return [event async for event in manager.subscribe(run_id)]


def test_run_goes_queued_running_succeeded_and_is_recorded(settings: Settings) -> None:
    async def scenario() -> None:
        async with SmokeRunManager(settings) as manager:
            run_id = manager.submit(script_spec("print('hello from the sandbox')\n"))
            assert manager.get(run_id).status == "queued"
            events = await _collect(manager, run_id)
            result = manager.get(run_id)
            assert result.status == "succeeded", result
            assert [e["status"] for e in events if e["type"] == "status"] == ["queued", "running"]
            assert events[-1]["type"] == "done" and events[-1]["result"]["status"] == "succeeded"
            assert any("hello from the sandbox" in e.get("line", "") for e in events if e["type"] == "log")
            assert result.experiment_id is not None
            assert manager.store is not None
            assert manager.store.get(result.experiment_id).run_id == run_id

    asyncio.run(scenario())


def test_failed_and_rejected_runs_get_their_status(settings: Settings) -> None:
    async def scenario() -> None:
        async with SmokeRunManager(settings) as manager:
            failing = manager.submit(script_spec("raise SystemExit(3)\n"))
            rejected = manager.submit(
                script_spec("print(1)\n").model_copy(update={"entrypoint": "missing.py"})
            )
            assert (await manager.wait(failing)).status == "failed"
            result = await manager.wait(rejected)
            assert result.status == "rejected" and "missing.py" in (result.error or "")

    asyncio.run(scenario())


def test_concurrency_limit_holds_and_queue_drains(tmp_path) -> None:
    settings = make_settings(tmp_path / "data", smoke_concurrency=2)

    async def scenario() -> None:
        async with SmokeRunManager(settings) as manager:
            ids = [manager.submit(sleeper(1.0)) for _ in range(3)]
            most_running = 0
            saw_queued_while_two_ran = False
            while not all(manager.get(i).status == "succeeded" for i in ids):
                counts = manager.active()
                most_running = max(most_running, counts["running"])
                saw_queued_while_two_ran |= counts["running"] == 2 and counts["queued"] == 1
                assert not any(manager.get(i).status in ("failed", "rejected") for i in ids)
                await asyncio.sleep(0.02)
            assert most_running == 2
            assert saw_queued_while_two_ran

    asyncio.run(scenario())


def test_cancel_queued_and_running_runs_leaves_nothing_behind(settings: Settings) -> None:
    async def scenario() -> None:
        async with SmokeRunManager(settings) as manager:
            running = manager.submit(sleeper(60))
            queued = manager.submit(sleeper(60))
            await _wait_status(manager, running, "running")
            while not live_sandbox_processes(running):  # the sandbox process is up (the check can see it)
                await asyncio.sleep(0.05)
            result = await manager.cancel(queued)
            assert result.status == "cancelled" and "before it started" in (result.error or "")
            assert result.experiment_id is not None
            started = time.monotonic()
            result = await manager.cancel(running)
            assert result.status == "cancelled"
            assert time.monotonic() - started < 5.0
            assert result.experiment_id is not None  # cancelled runs are recorded too
            assert (await manager.cancel(running)).status == "cancelled"  # idempotent
            assert leftover_run_dirs(settings) == []
            assert live_sandbox_processes(running) == []

    asyncio.run(scenario())


def test_stop_cancels_what_still_runs(settings: Settings) -> None:
    async def scenario() -> tuple[str, SmokeRunManager]:
        manager = SmokeRunManager(settings)
        await manager.start()
        run_id = manager.submit(sleeper(60))
        await _wait_status(manager, run_id, "running")
        started = time.monotonic()
        await manager.stop()
        assert time.monotonic() - started < 10.0
        return run_id, manager

    run_id, _ = asyncio.run(scenario())
    with ExperimentStore(settings.experiments_db) as store:
        experiment = store.get_by_run(run_id)
    assert experiment is not None and experiment.metrics.status == "cancelled"
    assert leftover_run_dirs(settings) == []


def test_live_and_late_subscribers_see_every_step(settings: Settings) -> None:
    async def scenario() -> None:
        async with SmokeRunManager(settings) as manager:
            run_id = manager.submit(lightning_spec(steps=5))
            live = asyncio.create_task(_collect(manager, run_id))
            final = await manager.wait(run_id)
            assert final.status == "succeeded", final.error
            live_events = await live
            late_events = await _collect(manager, run_id)
            for events in (live_events, late_events):
                steps = [e for e in events if e["type"] == "step"]
                assert [round(e["loss"], 5) for e in steps] == [round(v, 5) for v in final.losses]
                assert events[-1] == {"type": "done", "result": final.model_dump(mode="json")}
            assert final.time_to_first_step_s is not None

    asyncio.run(scenario())


def test_finished_runs_are_found_after_a_restart(settings: Settings) -> None:
    async def first() -> str:
        async with SmokeRunManager(settings) as manager:
            run_id = manager.submit(script_spec("print('ok')\n"))
            await manager.wait(run_id)
            return run_id

    async def second(run_id: str) -> None:
        async with SmokeRunManager(settings) as manager:
            assert manager.get(run_id).status == "succeeded"
            events = await _collect(manager, run_id)
            assert events[-1]["type"] == "done"
            try:
                manager.get("run-unknown")
            except UnknownRun as exc:
                assert "run-unknown" in str(exc)
            else:
                raise AssertionError("unknown run id was accepted")

    asyncio.run(second(asyncio.run(first())))


def test_a_full_queue_refuses_more(settings: Settings, monkeypatch) -> None:
    from sandbox import manager as manager_module

    monkeypatch.setattr(manager_module, "MAX_QUEUED", 2)

    async def scenario() -> None:
        async with SmokeRunManager(settings) as manager:
            first, second = manager.submit(sleeper(60)), manager.submit(sleeper(60))
            try:
                manager.submit(sleeper(60))
            except manager_module.QueueFull as exc:
                assert "retry later" in str(exc)
            else:
                raise AssertionError("a third run was queued")
        # Leaving the context stopped both: nothing is left queued or running.
        assert {manager.get(first).status, manager.get(second).status} == {"cancelled"}

    asyncio.run(scenario())
