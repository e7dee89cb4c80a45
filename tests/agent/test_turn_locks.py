"""Per-thread turn locks: released the moment a streamed turn is closed or cancelled, never left to the GC.

The real graph (offline planner, real tools) on a real SQLite checkpointer opened through ``open_storage``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from agent.chat import ChatService
from agent.graph import build_graph
from agent.llm.offline import OfflinePlannerChatModel
from agent.storage import LOCK_FILE_NAME, LocalTurnLocks, acquire_data_dir, open_storage, release_data_dir
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings
from tests.samples import PLAIN_LOOP

REVIEW = f"review this:\n```python\n{PLAIN_LOOP}```"


@asynccontextmanager
async def chat_service(data_dir: Path) -> AsyncIterator[ChatService]:
    settings = Settings(data_dir=data_dir)
    async with open_storage(settings, "the turn-lock tests") as storage:
        graph = build_graph(
            OfflinePlannerChatModel(), build_tools(ToolContext(settings)), storage.checkpointer
        )
        yield ChatService(graph, recursion_limit=20, locks=storage.locks)


def run_with_gc_off(test: Callable[[], Awaitable[None]]) -> None:
    """Run a test coroutine with the cyclic collector off, so that nothing but explicit closing can help."""
    gc.disable()
    try:
        asyncio.run(test())  # type: ignore[arg-type]
    finally:
        gc.enable()


async def follow_up_within(service: ChatService, thread_id: str, seconds: float) -> dict[str, Any]:
    started = time.monotonic()
    turn = await asyncio.wait_for(service.turn("what can you do?", thread_id), timeout=seconds)
    assert time.monotonic() - started < seconds
    return turn.as_dict()


def test_closing_a_stream_after_the_first_event_releases_the_lock_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with chat_service(tmp_path) as service:
            events = service.stream_turn(REVIEW, "dropped")
            first, _ = await anext(events)
            assert first == "tool_start"
            assert service.locks.held("dropped")
            await events.aclose()
            # Released by aclose itself, not by a later finaliser task or the garbage collector.
            assert not service.locks.held("dropped")
            reply = await follow_up_within(service, "dropped", 2.0)
            assert "Review" in reply["reply"]

    run_with_gc_off(scenario)


def test_a_cancelled_stream_consumer_leaves_no_lock_held(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with chat_service(tmp_path) as service:
            got_first = asyncio.Event()

            async def slow_consumer() -> None:
                async with aclosing(service.stream_turn(REVIEW, "cancelled")) as events:
                    async for _ in events:
                        got_first.set()
                        await asyncio.sleep(60)  # cancelled here, with the stream suspended at a yield

            task = asyncio.create_task(slow_consumer())
            await asyncio.wait_for(got_first.wait(), 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not service.locks.held("cancelled")
            await follow_up_within(service, "cancelled", 2.0)

    run_with_gc_off(scenario)


def test_a_turn_cancelled_inside_the_graph_releases_the_lock(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with chat_service(tmp_path) as service:
            task = asyncio.create_task(service.turn(REVIEW, "inside"))
            while not service.locks.held("inside"):
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert not service.locks.held("inside")
            await follow_up_within(service, "inside", 2.0)

    run_with_gc_off(scenario)


def test_local_locks_serialise_one_thread_and_forget_idle_threads() -> None:
    async def scenario() -> None:
        locks = LocalTurnLocks()
        order: list[str] = []

        async def turn(name: str, thread_id: str) -> None:
            async with locks.hold(thread_id):
                order.append(f"{name}+")
                await asyncio.sleep(0.05)
                order.append(f"{name}-")

        await asyncio.gather(turn("a", "t"), turn("b", "t"), turn("c", "other"))
        assert order.index("a-") < order.index("b+") or order.index("b-") < order.index("a+")
        assert not locks.held("t") and not locks.held("other")
        assert locks._locks == {} and locks._users == {}

    asyncio.run(scenario())


def test_the_data_dir_lock_refuses_another_process_and_is_reentrant_here(tmp_path: Path) -> None:
    acquire_data_dir(tmp_path, "the test process")
    acquire_data_dir(tmp_path, "the test process again")  # same process: a second hold, not a refusal
    probe = (
        "import sys; from pathlib import Path; from agent.storage import acquire_data_dir, DataDirBusy\n"
        "try:\n    acquire_data_dir(Path(sys.argv[1]), 'probe')\nexcept DataDirBusy as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    def probe_run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, env=env, timeout=60
        )

    refused = probe_run()
    assert refused.returncode == 3, refused.stderr
    assert "in use by the test process" in refused.stdout and f"pid {os.getpid()}" in refused.stdout
    release_data_dir(tmp_path)
    assert probe_run().returncode == 3  # one hold is still there
    release_data_dir(tmp_path)
    assert probe_run().returncode == 0
    assert (tmp_path / LOCK_FILE_NAME).exists()
