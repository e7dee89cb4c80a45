"""``codegen_full`` tests (every backbone of every architecture) run only when asked: ``-m codegen_full``; and the
pool that runs the slow train-and-export cases two at a time."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "codegen_full" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(
        reason="all-backbones sweep: run `make test-codegen-full` (pytest -m codegen_full)"
    )
    for item in items:
        if "codegen_full" in item.keywords:
            item.add_marker(skip)


POOL_WORKERS = max(1, min(2, os.cpu_count() or 1))


def run_selected_in_pool(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    test_name: str,
    prepare: Callable[[Path, dict[str, Any]], Callable[[], None]],
) -> Iterator[dict[str, Future[None]]]:
    """Run every selected case of ``test_name``: ``prepare(tmp_dir, params)`` here, one case after the other, then
    the callable it returns in a pool of ``POOL_WORKERS``.

    Why: a generated project's train-and-export case is two child interpreters that mostly use one core (the
    torch.export-based ONNX exporter runs ~20 s of Python), so two cases at a time nearly halve the wall time
    on a 2-core machine. Only child processes run in the pool: in-process work (generating and reviewing the
    project, which parses Python) stays on this thread, because CPython 3.11's AST constructor is not
    thread-safe ("AST constructor recursion depth mismatch" when two threads compile at once). Each test then
    waits for its own case (``futures[request.node.callspec.id]``), and a failing case re-raises its own
    assertion there. Only the cases pytest selected run.
    """
    cases = [
        (item.callspec.id, dict(item.callspec.params))
        for item in request.session.items
        if getattr(item, "originalname", None) == test_name and hasattr(item, "callspec")
    ]
    pool = ThreadPoolExecutor(max_workers=POOL_WORKERS, thread_name_prefix=test_name[:20])
    futures: dict[str, Future[None]] = {}
    try:
        for case_id, params in cases:
            try:
                run = prepare(tmp_path_factory.mktemp(re.sub(r"\W+", "-", case_id)[:60]), params)
            except Exception as exc:  # the case fails with its own error; the others still run
                failed: Future[None] = Future()
                failed.set_exception(exc)
                futures[case_id] = failed
                continue
            futures[case_id] = pool.submit(run)
        yield futures
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
