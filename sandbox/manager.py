"""The smoke-run queue: runs wait their turn, a fixed number run at once, and anyone can follow them live.

A smoke run takes seconds to minutes of CPU or GPU, so the HTTP API must hand out an id at once (202) and let
clients poll, stream or cancel it. The manager owns that life cycle:

    submit -> queued -> running -> succeeded | failed | timeout | oom | cancelled | rejected

Runs execute on a private thread pool (one thread per concurrency slot) calling the blocking
``backend.run``; the event loop only moves small event dicts around, so the API stays responsive while
training goes on. Events from the worker threads are handed to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psutil

from sandbox.backends import SandboxBackend, execute, final_result, get_backend, new_run_id
from sandbox.experiments import (
    ExperimentStore,
    ReproduceReport,
    capture_environment,
    reproduction_report,
)
from sandbox.spec import RunResult, RunSpec

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"succeeded", "failed", "timeout", "oom", "cancelled", "rejected"})
MAX_QUEUED = 100
KEEP_FINISHED = 500
LOG_HISTORY = 200
STOP_GRACE_S = 30.0
LOSS_FLUSH_S = 0.25  # how often a running run's streamed losses are written to the store (at most)

_event_seq = itertools.count(1)  # orders steps and logs when a late subscriber replays them


class UnknownRun(KeyError):
    """No run has this id (the API answers 404)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(run_id)

    def __str__(self) -> str:
        return f"unknown smoke run id: {self.run_id}"


class QueueFull(RuntimeError):
    """Too many runs are waiting; the client should retry later (the API answers 429)."""


class ManagerNotRunning(RuntimeError):
    """``submit`` before ``start`` or after ``stop``."""


@dataclass
class _Run:
    """One run's live state, touched only on the event loop thread."""

    id: str
    spec: RunSpec
    result: RunResult
    cancel: threading.Event = field(default_factory=threading.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    steps: list[dict[str, Any]] = field(default_factory=list)
    logs: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_HISTORY))
    subscribers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    started_at: float | None = None
    announced: set[str] = field(default_factory=set)
    reproduces: str | None = None


class SmokeRunManager:
    """An asyncio-friendly queue of sandboxed smoke runs with ``settings.smoke_concurrency`` slots.

    Use from one event loop: ``await start()``, then ``submit``/``get``/``cancel``/``subscribe``/``wait``,
    then ``await stop()``. Every finished run is recorded in the experiment store (``self.store``).
    """

    def __init__(self, settings: Settings, backend: SandboxBackend | None = None) -> None:
        self.settings = settings
        self.concurrency = settings.smoke_concurrency
        self._backend = backend
        self._owns_backend = backend is None
        self.store: ExperimentStore | None = None
        self.isolation: str | None = None
        self.sandbox_usable: bool | None = None
        self.sandbox_reason: str = ""
        self._runs: OrderedDict[str, _Run] = OrderedDict()
        self._queue: asyncio.Queue[str | None] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self.owner = f"{_process_id()}/{uuid.uuid4().hex[:8]}"  # names this manager on the runs it accepts

    @property
    def backend(self) -> SandboxBackend:
        if self._backend is None:
            raise ManagerNotRunning("smoke-run manager not started")
        return self._backend

    # --- life cycle ---

    async def start(self) -> None:
        """Reap what an earlier crash left, open the experiment store, start the worker slots."""
        if self._running:
            return
        self._loop = asyncio.get_running_loop()
        if self._backend is None:
            self._backend = await asyncio.to_thread(get_backend, self.settings)
        backend = self._backend
        await asyncio.to_thread(self._reap, backend)
        check = await asyncio.to_thread(backend.check)
        if check.usable or self.settings.sandbox_unsafe:
            await asyncio.to_thread(backend.warm_up)
        self.isolation, self.sandbox_usable, self.sandbox_reason = check.isolation, check.usable, check.reason
        if not check.usable:
            log.warning("sandbox not usable, smoke runs will be rejected: %s", check.reason)
        self.store = await asyncio.to_thread(ExperimentStore, self.settings.experiments_db)
        _live_owners.add(self.owner)
        await asyncio.to_thread(self._recover, self.store)
        self._executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="smoke-run")
        self._queue = asyncio.Queue()
        self._workers = [
            asyncio.create_task(self._worker(), name=f"smoke-slot-{i}") for i in range(self.concurrency)
        ]
        self._running = True

    async def stop(self) -> None:
        """Cancel queued and running runs, wait for them to finish cleaning up, close store and backend."""
        if not self._running:
            return
        self._running = False
        _live_owners.discard(self.owner)
        for run in list(self._runs.values()):
            if run.result.status == "queued" and not run.cancel.is_set():
                await self._cancel_unstarted(run, "server shutting down")
            elif run.result.status not in FINAL_STATUSES:
                run.cancel.set()
        assert self._queue is not None
        for _ in self._workers:
            self._queue.put_nowait(None)
        _, pending = await asyncio.wait(self._workers, timeout=STOP_GRACE_S)
        for task in pending:
            task.cancel()
        if self._executor is not None:
            await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._owns_backend and self._backend is not None:
            await asyncio.to_thread(self._backend.close)
            self._backend = None
        self._workers = []

    async def __aenter__(self) -> SmokeRunManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @staticmethod
    def _recover(store: ExperimentStore) -> None:
        """Runs that a crashed predecessor accepted but never finished become failed experiments."""
        try:
            recovered = store.recover_interrupted(owner_alive)
        except Exception as exc:  # a damaged record must not keep the service down
            log.error("could not recover the runs a previous server left unfinished: %s", exc)
            return
        for experiment in recovered:
            log.warning(
                "smoke run %s was interrupted by a server restart; recorded as failed (experiment %s, %d losses)",
                experiment.run_id,
                experiment.id,
                len(experiment.metrics.losses),
            )

    @staticmethod
    def _reap(backend: SandboxBackend) -> None:
        try:
            backend.reap_leftovers()
        except Exception as exc:  # a failed reap must not keep the service down
            log.warning("could not reap sandbox leftovers: %s", exc)

    # --- public API ---

    def submit(self, spec: RunSpec, *, reproduces: str | None = None) -> str:
        """Queue a run; returns its id at once. Raises QueueFull when MAX_QUEUED runs already wait."""
        if not self._running or self._queue is None:
            raise ManagerNotRunning("smoke-run manager not started")
        if self._queue.qsize() >= MAX_QUEUED:
            raise QueueFull(f"{MAX_QUEUED} smoke runs are already waiting; retry later")
        run_id = new_run_id()
        run = _Run(
            id=run_id,
            spec=spec,
            result=RunResult(id=run_id, status="queued", limits=spec.limits.model_dump()),
            reproduces=reproduces,
        )
        self._runs[run_id] = run
        self._trim()
        self._durably(
            "accept", run_id, spec, owner=self.owner, reproduces=reproduces, backend=self.backend.name
        )
        self._publish(run, {"type": "status", "status": "queued", "position": self._queue.qsize() + 1})
        self._queue.put_nowait(run_id)
        return run_id

    def get(self, run_id: str) -> RunResult:
        """The run's current result (live while it runs); finished runs are also found in the store."""
        run = self._runs.get(run_id)
        if run is not None:
            return run.result
        if self.store is not None:
            experiment = self.store.get_by_run(run_id)
            if experiment is not None:
                return experiment.result
            pending = self.store.pending(run_id)  # accepted by another server process on this data dir
            if pending is not None:
                return pending
        raise UnknownRun(run_id)

    async def wait(self, run_id: str) -> RunResult:
        """Wait until the run is final and return its result."""
        run = self._runs.get(run_id)
        if run is None:
            return self.get(run_id)
        await run.done.wait()
        return run.result

    async def cancel(self, run_id: str) -> RunResult:
        """Cancel a queued or running run and return its final result (a finished run is left as it is)."""
        run = self._runs.get(run_id)
        if run is None:
            return self.get(run_id)
        if run.result.status == "queued" and not run.cancel.is_set():
            await self._cancel_unstarted(run, "cancelled before it started")
        elif not run.done.is_set():
            run.cancel.set()
            await run.done.wait()
        return run.result

    async def subscribe(self, run_id: str) -> AsyncIterator[dict[str, Any]]:
        """Live events of a run: status, step, log, then one ``done`` event carrying the final result.

        A late subscriber first gets the history: the current status, every step seen so far and the last
        log lines; a subscriber to a finished run gets that history and ``done`` at once.
        """
        run = self._runs.get(run_id)
        if run is None:
            result = self.get(run_id)  # raises UnknownRun
            for i, loss in enumerate(result.losses, start=1):  # steps count from 1, as live events do
                yield {"type": "step", "step": i, "loss": loss}
            yield {"type": "done", "result": result.model_dump(mode="json")}
            return
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        history = [
            {"type": "status", "status": run.result.status},
            *sorted([*run.steps, *run.logs], key=lambda e: e.get("_seq", 0)),
        ]
        finished = run.done.is_set()
        if not finished:
            run.subscribers.add(queue)
        try:
            for event in history:
                yield _public(event)
            if finished:
                yield {"type": "done", "result": run.result.model_dump(mode="json")}
                return
            while True:
                event = await queue.get()
                yield _public(event)
                if event["type"] == "done":
                    return
        finally:
            run.subscribers.discard(queue)

    def active(self) -> dict[str, int]:
        """How many runs are queued and running now."""
        statuses = [r.result.status for r in self._runs.values()]
        return {"queued": statuses.count("queued"), "running": statuses.count("running")}

    async def reproduce(self, experiment_id: str) -> ReproduceReport:
        """Re-run a recorded experiment through the queue; judge whether its loss curve came out the same."""
        store = self._store()
        original = await asyncio.to_thread(store.get, experiment_id)
        run_id = self.submit(original.run_spec(), reproduces=original.id)
        rerun = await self.wait(run_id)
        return reproduction_report(original, rerun)

    # --- internals ---

    async def _cancel_unstarted(self, run: _Run, reason: str) -> None:
        """Finish a queued run as cancelled; the set cancel flag keeps a worker from starting it meanwhile."""
        run.cancel.set()
        result = await asyncio.to_thread(
            self._record, run, final_result(run.spec, run.id, "cancelled", reason)
        )
        self._finish(run, result)

    def _store(self) -> ExperimentStore:
        if self.store is None:
            raise ManagerNotRunning("smoke-run manager not started")
        return self.store

    async def _worker(self) -> None:
        assert self._queue is not None and self._loop is not None
        while True:
            run_id = await self._queue.get()
            if run_id is None:
                return
            run = self._runs.get(run_id)
            if run is None or run.cancel.is_set() or run.result.status != "queued":
                continue  # cancelled while it waited
            self._publish(run, {"type": "status", "status": "running"})
            try:
                result = await self._loop.run_in_executor(self._executor, self._execute, run)
            except Exception as exc:  # _execute already guards the backend; this is the last line
                log.exception("smoke run %s crashed the worker", run.id)
                result = final_result(run.spec, run.id, "failed", f"internal error: {exc}")
            self._finish(run, result)

    def _execute(self, run: _Run) -> RunResult:
        """Worker thread: run in the sandbox, then record the experiment (both blocking)."""
        loop = self._loop
        assert loop is not None

        losses: list[float] = []
        flushed_at = [0.0]

        def on_event(event: dict[str, Any]) -> None:
            with contextlib.suppress(RuntimeError):  # loop closed during shutdown
                loop.call_soon_threadsafe(self._publish, run, dict(event))
            if event.get("type") == "step" and isinstance(event.get("loss"), int | float):
                losses.append(float(event["loss"]))
                now = time.monotonic()
                if now - flushed_at[0] >= LOSS_FLUSH_S:  # throttled: a fast run streams thousands of steps
                    self._durably("save_losses", run.id, losses)
                    flushed_at[0] = now

        self._durably("mark_running", run.id)

        if not self.sandbox_usable and not self.settings.sandbox_unsafe:
            result = final_result(
                run.spec,
                run.id,
                "rejected",
                f"sandbox unavailable: {self.sandbox_reason or 'unknown reason'}",
            )
        else:
            result = execute(self.backend, run.spec, run_id=run.id, on_event=on_event, cancel=run.cancel)
        if run.cancel.is_set() and result.status not in FINAL_STATUSES:
            result = result.model_copy(update={"status": "cancelled"})
        return self._record(run, result)

    def _durably(self, action: str, run_id: str, *args: Any, **kwargs: Any) -> None:
        """Write a run's progress to the store (``accept``, ``mark_running``, ``save_losses``).

        A failed write is logged, not raised: the run itself matters more than its crash-safety record.
        """
        store = self.store
        if store is None:
            return
        try:
            getattr(store, action)(run_id, *args, **kwargs)
        except Exception as exc:
            log.error("could not record the progress of smoke run %s (%s): %s", run_id, action, exc)

    def _record(self, run: _Run, result: RunResult) -> RunResult:
        store = self.store
        if store is None:
            return result
        try:
            environment = capture_environment(result, isolation=self.isolation, backend=self.backend.name)
            experiment = store.record(run.spec, result, environment=environment, reproduces=run.reproduces)
        except Exception as exc:  # the run's result matters more than its record
            log.error("could not record smoke run %s: %s", run.id, exc)
            return result
        return experiment.result

    def _finish(self, run: _Run, result: RunResult) -> None:
        if run.done.is_set():
            return
        run.result = result
        self._publish(run, {"type": "done", "result": result.model_dump(mode="json")})
        run.done.set()

    def _publish(self, run: _Run, event: dict[str, Any]) -> None:
        """Loop thread: fold an event into the run's state, keep it for late subscribers, fan it out."""
        if run.done.is_set():
            return  # a straggler after the final result (e.g. a log line flushed during kill)
        kind = event.get("type")
        if kind == "status":
            status = event.get("status")
            if status in run.announced:
                return  # the manager and the backend both say "running": tell subscribers once
            run.announced.add(str(status))
            if status in ("queued", "running") and run.result.status in ("queued", "running"):
                run.result = run.result.model_copy(update={"status": status})
            if status == "running" and run.started_at is None:
                run.started_at = time.monotonic()
        elif kind == "step":
            run.steps.append(event)
            loss = event.get("loss")
            if isinstance(loss, int | float):
                run.result = run.result.model_copy(
                    update={"steps": len(run.steps), "losses": [*run.result.losses, float(loss)]}
                )
            if run.result.time_to_first_step_s is None and run.started_at is not None:
                first = round(time.monotonic() - run.started_at, 3)
                run.result = run.result.model_copy(update={"time_to_first_step_s": first})
        elif kind == "log":
            run.logs.append(event)
        event["_seq"] = next(_event_seq)
        for queue in run.subscribers:
            queue.put_nowait(event)

    def _trim(self) -> None:
        """Forget the oldest finished runs beyond KEEP_FINISHED (they stay readable from the store)."""
        finished = [rid for rid, r in self._runs.items() if r.done.is_set()]
        for run_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._runs[run_id]


def _process_id() -> str:
    """``pid@start-time`` of this process: a pid alone is reused (in a container the server is often pid 1
    after every restart)."""
    process = psutil.Process()
    return f"{process.pid}@{process.create_time():.2f}"


_live_owners: set[str] = set()  # owner ids of the managers running in this process


def owner_alive(owner: str) -> bool:
    """Whether the manager that accepted a run (its ``owner`` id: ``pid@start-time/token``) still runs it."""
    process, _, _ = owner.partition("/")
    if process == _process_id():
        return owner in _live_owners
    pid, _, started = process.partition("@")
    try:
        return abs(psutil.Process(int(pid)).create_time() - float(started)) < 0.5
    except (ValueError, psutil.Error):
        return False


def _public(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if not k.startswith("_")}
