"""The bounded worker pool: deadlines, memory caps, crashes and recycling, each leaving the pool usable."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tools.workers import (
    JobFailed,
    JobOutOfMemory,
    JobTimeout,
    PoolBusy,
    PoolClosed,
    PoolLimits,
    WorkerCrashed,
    WorkerPool,
)

JOBS = "tests.workers.jobs"


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    limits = PoolLimits(
        workers=1, timeout_s=5, memory_mb=512, max_jobs=50, recycle_rss_mb=0, queue_timeout_s=2
    )
    started = WorkerPool(limits, preload=[JOBS]).start()
    yield started
    started.close()


def test_a_job_runs_in_another_process_and_returns_its_value(pool: WorkerPool) -> None:
    import os

    assert pool.call(f"{JOBS}:echo", {"a": [1, 2]}) == {"a": [1, 2]}
    assert pool.call(f"{JOBS}:pid") != os.getpid()


def test_a_job_past_its_deadline_is_killed_and_the_pool_goes_on(pool: WorkerPool) -> None:
    first = pool.call(f"{JOBS}:pid")
    started = time.monotonic()
    with pytest.raises(JobTimeout, match=r"0\.5 s limit"):
        pool.call(f"{JOBS}:sleep", 30, timeout_s=0.5)
    assert time.monotonic() - started < 3
    assert pool.stats["timeouts"] == 1
    assert pool.call(f"{JOBS}:pid") != first  # a fresh worker replaced the killed one


def test_a_job_over_the_memory_cap_fails_cleanly(pool: WorkerPool) -> None:
    with pytest.raises(JobOutOfMemory, match="512 MB"):
        pool.call(f"{JOBS}:hog_memory", 2048)
    assert pool.call(f"{JOBS}:hog_memory", 16) == 16 * 2**20


def test_a_native_crash_in_a_job_is_reported_not_propagated(pool: WorkerPool) -> None:
    with pytest.raises(WorkerCrashed, match="signal 11"):
        pool.call(f"{JOBS}:segfault")
    assert pool.stats["crashes"] == 1
    assert pool.call(f"{JOBS}:echo", "still here") == "still here"


def test_an_exception_in_a_job_keeps_the_worker(pool: WorkerPool) -> None:
    worker_pid = pool.call(f"{JOBS}:pid")
    with pytest.raises(JobFailed, match="ValueError: bad input") as raised:
        pool.call(f"{JOBS}:fail", "bad input")
    assert raised.value.kind == "ValueError"
    assert pool.call(f"{JOBS}:pid") == worker_pid


def test_workers_are_recycled_after_max_jobs() -> None:
    limits = PoolLimits(workers=1, timeout_s=5, max_jobs=3, recycle_rss_mb=0)
    pool = WorkerPool(limits, preload=[JOBS]).start()
    try:
        pids = [pool.call(f"{JOBS}:pid") for _ in range(7)]
    finally:
        pool.close()
    assert pids[0] == pids[1] == pids[2] != pids[3]
    assert pids[3] == pids[4] == pids[5] != pids[6]
    assert pool.stats["recycled"] == 2 and pool.stats["crashes"] == 0


def test_a_worker_that_grew_large_is_replaced() -> None:
    limits = PoolLimits(workers=1, timeout_s=10, memory_mb=1024, recycle_rss_mb=150)
    pool = WorkerPool(limits, preload=[JOBS]).start()
    try:
        grown = pool.call(f"{JOBS}:grow", 200)
        assert pool.call(f"{JOBS}:pid") != grown
    finally:
        pool.close()
    assert pool.stats["recycled"] == 1


def test_callers_wait_for_a_free_worker_and_give_up_with_pool_busy(pool: WorkerPool) -> None:
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(pool.call(f"{JOBS}:sleep", 3.0)))
    thread.start()
    time.sleep(0.3)
    with pytest.raises(PoolBusy, match="stayed busy"):
        pool.call(f"{JOBS}:echo", 1)  # the queue timeout is 2 s; the only worker sleeps 3 s
    thread.join()
    assert results == ["woke"]
    assert pool.call(f"{JOBS}:echo", 2) == 2


def test_a_closed_pool_refuses_jobs(pool: WorkerPool) -> None:
    pool.close()
    with pytest.raises(PoolClosed):
        pool.call(f"{JOBS}:echo", 1)
