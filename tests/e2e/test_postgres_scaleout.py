"""Threads in PostgreSQL with several API processes (issue 12, item 6, scale-out).

A real PostgreSQL server started for this module (tests/postgres.py): first the turn lock itself across two
connection pools (as two processes would have), then two real ``mlagent serve`` processes on one database,
hit at once with turns on one thread: every acknowledged turn must be in the history exactly once, in order,
user and assistant alternating, with the reply its client was given.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from agent.storage import Storage, open_storage
from core.settings import Settings
from tests.conftest import RunningServer
from tests.e2e.test_openai_provider import run_serve
from tests.e2e.test_stream_disconnect import FOLLOW_UP_LIMIT_S, MESSAGES, open_and_drop, timed_follow_up
from tests.postgres import PostgresServer, find_bindir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's 'postgresql' package")
    started = time.monotonic()
    with PostgresServer(bindir) as server:
        print(f"\npostgres started in {time.monotonic() - started:.1f}s at {server.url}")
        yield server.url


async def _two_storages(stack: AsyncExitStack, tmp_path: Path, url: str) -> tuple[Storage, Storage]:
    opened = []
    for name in ("a", "b"):
        settings = Settings(data_dir=tmp_path / name, database_url=url, database_pool_size=4)
        opened.append(await stack.enter_async_context(open_storage(settings, f"process {name}")))
    return opened[0], opened[1]


async def _advisory_locks_held(storage: Storage) -> int:
    pool = storage.locks._pool  # type: ignore[attr-defined]
    async with pool.connection() as conn:
        cursor = await conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        row = await cursor.fetchone()
    return int(row[0])


def test_the_turn_lock_excludes_across_pools_and_survives_cancellation(
    tmp_path: Path, postgres_url: str
) -> None:
    async def scenario() -> None:
        async with AsyncExitStack() as stack:
            a, b = await _two_storages(stack, tmp_path, postgres_url)
            entered = asyncio.Event()

            async def take(storage: Storage, thread_id: str, hold_s: float = 0.0) -> None:
                async with storage.locks.hold(thread_id):
                    entered.set()
                    await asyncio.sleep(hold_s)

            async with a.locks.hold("shared"):
                waiter = asyncio.create_task(take(b, "shared"))
                await asyncio.wait_for(take(b, "other-thread"), 2)  # other threads are not blocked
                entered.clear()
                await asyncio.sleep(0.5)
                assert not entered.is_set() and not waiter.done()  # b waits while a holds the thread
            await asyncio.wait_for(waiter, 5)

            # A turn cancelled while it waits for the thread (client gone) must not take the lock later.
            async with a.locks.hold("shared"):
                cancelled = asyncio.create_task(take(b, "shared", hold_s=600))
                await asyncio.sleep(0.3)
                cancelled.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await cancelled
            # ... nor one cancelled while it holds it.
            holder = asyncio.create_task(take(a, "shared", hold_s=600))
            await asyncio.sleep(0.3)
            holder.cancel()
            with pytest.raises(asyncio.CancelledError):
                await holder
            await asyncio.wait_for(take(b, "shared"), 2)
            for _ in range(50):  # releases are shielded tasks: give them a moment
                if await _advisory_locks_held(a) == 0:
                    break
                await asyncio.sleep(0.05)
            assert await _advisory_locks_held(a) == 0

    asyncio.run(scenario())


def test_two_servers_on_one_database_lose_and_interleave_nothing(
    server_factory: Callable[..., RunningServer], tmp_path: Path, postgres_url: str
) -> None:
    env = {"MLAGENT_DATABASE_URL": postgres_url}
    with ThreadPoolExecutor(max_workers=2) as starting:  # both start at once: same schema set-up race too
        servers = list(
            starting.map(lambda n: server_factory(env=env, data_dir=tmp_path / f"data-{n}"), range(2))
        )
    for server in servers:
        ready = httpx.get(f"{server.url}/readyz", timeout=10).json()
        assert ready["checks"]["database"] == {"ok": True, "kind": "postgres"}

    clients_per_server, turns_per_client = 3, 8
    acknowledged: dict[str, str] = {}  # user message -> the reply its client got
    spans: list[tuple[float, float, int]] = []
    lock = threading.Lock()

    def client(server_index: int, client_index: int) -> None:
        url = servers[server_index].url
        with httpx.Client(timeout=120) as http:
            for turn in range(turns_per_client):
                # Answered without a tool (a knowledge-base question would first load the retrieval model,
                # ~30 s here, while every other turn on the thread waits): the turns stay short.
                message = f"what can you do? (client {server_index}.{client_index}, turn {turn})"
                started = time.monotonic()
                response = http.post(f"{url}/v1/chat", json={"message": message, "thread_id": "shared"})
                ended = time.monotonic()
                if response.status_code == 200:
                    with lock:
                        acknowledged[message] = response.json()["reply"]
                        spans.append((started, ended, server_index))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2 * clients_per_server) as pool:
        futures = [pool.submit(client, s, c) for s in range(2) for c in range(clients_per_server)]
        for future in futures:
            future.result()
    elapsed = time.monotonic() - started
    total = 2 * clients_per_server * turns_per_client
    latencies = sorted(end - start for start, end, _ in spans)
    print(
        f"\n{len(acknowledged)}/{total} turns acknowledged in {elapsed:.1f}s over two servers "
        f"(request latency p50 {latencies[len(latencies) // 2]:.2f}s, max {latencies[-1]:.2f}s)"
    )
    assert len(acknowledged) == total

    # The two servers really did take turns at the same time (so the lock had something to do).
    overlaps = sum(
        1 for s1, e1, i1 in spans for s2, e2, i2 in spans if i1 == 0 and i2 == 1 and s1 < e2 and s2 < e1
    )
    assert overlaps > 0

    histories = [
        httpx.get(f"{server.url}/v1/threads/shared", timeout=30).json()["messages"] for server in servers
    ]
    assert histories[0] == histories[1]
    messages: list[dict[str, Any]] = histories[0]
    stored = [m["content"] for m in messages if m["role"] == "user"]
    lost = set(acknowledged) - set(stored)
    assert not lost, f"{len(lost)} of {total} acknowledged turns are missing from the history"
    # Tool steps may sit inside a turn; set aside, user messages and final replies alternate strictly.
    spoken = [
        m for m in messages if m["role"] == "user" or (m["role"] == "assistant" and not m.get("tool_calls"))
    ]
    assert [m["role"] for m in spoken] == ["user", "assistant"] * total
    users = [m["content"] for m in spoken[::2]]
    assert sorted(users) == sorted(acknowledged)  # every acknowledged turn, exactly once
    for user, reply in zip(spoken[::2], spoken[1::2], strict=True):
        assert reply["content"] == acknowledged[user["content"]]  # each reply right after its own question
    # ... and every tool result sits in the turn that asked for it.
    asked: set[str] = set()
    for message in messages:
        if message["role"] == "user":
            asked = set()
        asked |= {call["id"] for call in message.get("tool_calls", [])}
        if message["role"] == "tool":
            assert message["tool_call_id"] in asked, message
    for server_index in range(2):
        for client_index in range(clients_per_server):
            tag = f"(client {server_index}.{client_index}, turn "
            order = [int(u.split(tag)[1].rstrip(")")) for u in users if tag in u]
            assert order == list(range(turns_per_client))  # each client's turns in the order it sent them

    # A stream dropped on one server releases the thread for the other at once (advisory lock released on
    # cancellation, not when the dropped generator is garbage-collected).
    for stall_s in (0.0, 0.5):
        thread_id = f"xdrop-{int(stall_s * 10)}"
        open_and_drop(
            servers[0], "/v1/chat/stream", {"message": MESSAGES[0], "thread_id": thread_id}, stall_s=stall_s
        )
        elapsed = timed_follow_up(servers[1], thread_id)
        assert elapsed < FOLLOW_UP_LIMIT_S, f"follow-up on the other server took {elapsed:.1f}s"

    # One database: a thread deleted through one server is gone for the other.
    assert httpx.delete(f"{servers[1].url}/v1/threads/shared").status_code == 204
    assert httpx.get(f"{servers[0].url}/v1/threads/shared").status_code == 404


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        (
            "postgresql://someone:hunter2@127.0.0.1:9/db",
            "cannot connect to the database postgresql://someone:***@",
        ),
        ("mysql://someone@127.0.0.1/db", "only postgresql:// URLs are supported"),
    ],
)
def test_unusable_database_url_stops_serve_with_one_line(tmp_path: Path, url: str, needle: str) -> None:
    result = run_serve({"MLAGENT_DATABASE_URL": url, "MLAGENT_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "hunter2" not in result.stderr, result.stderr
