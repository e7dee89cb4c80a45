"""A small pool of worker processes for CPU-bound work on untrusted text, with a deadline and a memory cap per job.

Why: parsing a hostile text can take seconds of GIL-holding C code, gigabytes of memory, or (in a native parser)
crash the process. Running it in the server's own process would freeze ``/healthz`` for every client or take the
whole service down. Here each job runs in a separate process that:

- has an address-space limit (``RLIMIT_AS``), so a memory blow-up ends as ``MemoryError`` in the worker;
- is killed when its job passes the deadline (the caller gets :class:`JobTimeout`);
- may die of anything, a segfault included, and the caller gets :class:`WorkerCrashed`, never a dead server;
- is recycled after ``max_jobs`` jobs or when its resident memory grew past ``recycle_rss_mb``, so memory that
  a large job took is given back to the system.

Workers are forked from a ``forkserver`` (never from the threaded server itself) that has pre-imported the job
modules, so a replacement is ready in milliseconds. The pool is thread-safe: :meth:`WorkerPool.call` blocks its
calling thread (run it in a thread from async code) while the event loop stays free.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger("mlagent.workers")


class WorkerError(RuntimeError):
    """A job did not produce a result; the message says why in words a user can act on."""


class JobTimeout(WorkerError):
    """The job ran past its deadline and its worker was killed."""


class JobOutOfMemory(WorkerError):
    """The job needed more memory than a worker may use."""


class WorkerCrashed(WorkerError):
    """The worker process died during the job (a native crash, a signal)."""


class PoolBusy(WorkerError):
    """Every worker stayed busy for longer than the caller would wait."""


class PoolClosed(WorkerError):
    """The pool was shut down."""


class JobFailed(WorkerError):
    """The job raised an exception; ``kind`` is its class name, the message its text."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


@dataclass(frozen=True)
class PoolLimits:
    """How big, how long and how much memory; every figure is configurable through the service settings."""

    workers: int = 2
    timeout_s: float = 20.0
    memory_mb: int = 1536
    max_jobs: int = 200
    recycle_rss_mb: int = 400
    queue_timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolLimits:
        """The review pool's limits as the service settings configure them."""
        return cls(
            workers=settings.review_workers,
            timeout_s=settings.review_timeout_s,
            memory_mb=settings.review_memory_mb,
            max_jobs=settings.review_worker_max_jobs,
        )


def _resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _resolve(target: str) -> Callable[..., Any]:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


def _worker_main(conn: Connection, memory_mb: int, max_jobs: int, recycle_rss_mb: int) -> None:
    """The worker's loop: one job at a time, answered as ``("ok", value)`` or ``("error", kind, message)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the server's to handle
    if memory_mb > 0:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for number in range(1, max_jobs + 1):
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        target, args = job
        try:
            answer: tuple[Any, ...] = ("ok", _resolve(target)(*args))
        except MemoryError:
            answer = ("error", "MemoryError", "out of memory")
        except RecursionError:
            answer = ("error", "RecursionError", "the input nests too deeply")
        except BaseException as error:  # reported to the caller, which decides what the user sees
            answer = ("error", type(error).__name__, str(error) or traceback.format_exc(limit=3))
        # A worker that hit its memory limit may be fragmented; one that grew large keeps its memory: both
        # retire, and say so with the answer, so the pool never sends a job to a worker that is exiting.
        retiring = (
            number == max_jobs
            or answer[1] == "MemoryError"
            or (recycle_rss_mb > 0 and _resident_mb() > recycle_rss_mb)
        )
        try:
            conn.send((*answer, retiring))
        except MemoryError:
            return
        if retiring:
            return


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context: Any, limits: PoolLimits) -> None:
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=_worker_main,
            args=(child, limits.memory_mb, limits.max_jobs, limits.recycle_rss_mb),
            daemon=True,
            name="mlagent-worker",
        )
        self.process.start()
        child.close()

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


class WorkerPool:
    """A fixed number of worker processes; :meth:`call` runs ``module:function`` in one of them."""

    def __init__(self, limits: PoolLimits | None = None, preload: Sequence[str] = ()) -> None:
        self.limits = limits or PoolLimits()
        self._context = multiprocessing.get_context("forkserver")
        if preload:
            self._context.set_forkserver_preload(list(preload))
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self.stats = {"jobs": 0, "timeouts": 0, "crashes": 0, "out_of_memory": 0, "recycled": 0}

    def start(self) -> WorkerPool:
        """Start every worker now, so the first job does not pay for process start-up."""
        for _ in range(self.limits.workers):
            self._idle.put(self._spawn())
        return self

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context, self.limits)
        with self._lock:
            self._all.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def _acquire(self) -> _Worker:
        if self._closed:
            raise PoolClosed("the worker pool is shut down")
        try:
            worker = self._idle.get(timeout=self.limits.queue_timeout_s)
        except queue.Empty:
            raise PoolBusy(
                f"all {self.limits.workers} workers stayed busy for {self.limits.queue_timeout_s:g} s"
            ) from None
        if worker is None:  # the shutdown sentinel: pass it on to the next waiter
            self._idle.put(None)
            raise PoolClosed("the worker pool is shut down")
        if not worker.alive():  # died while idle (killed from outside)
            self._retire(worker)
            worker = self._spawn()
        return worker

    def call(self, target: str, *args: Any, timeout_s: float | None = None) -> Any:
        """Run ``target`` (``"package.module:function"``) with picklable ``args`` in a worker; return its value.

        Raises :class:`JobTimeout`, :class:`JobOutOfMemory`, :class:`WorkerCrashed`, :class:`JobFailed`,
        :class:`PoolBusy` or :class:`PoolClosed`; the pool stays usable after any of them.
        """
        deadline = self.limits.timeout_s if timeout_s is None else timeout_s
        worker = self._acquire()
        keep = False
        started = time.monotonic()
        try:
            try:
                worker.conn.send((target, args))
                ready = worker.conn.poll(deadline)
            except (BrokenPipeError, EOFError, OSError):
                ready = True  # the worker is gone; recv below says how
            if not ready:
                self.stats["timeouts"] += 1
                log.warning("worker job %s passed its %.1f s deadline; worker killed", target, deadline)
                raise JobTimeout(f"it took longer than the {deadline:g} s limit")
            try:
                answer = worker.conn.recv()
            except (EOFError, OSError):
                worker.process.join(timeout=2)
                code = worker.process.exitcode
                self.stats["crashes"] += 1
                log.error("worker died during %s (exit code %s)", target, code)
                reason = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                raise WorkerCrashed(f"the worker process died ({reason})") from None
            self.stats["jobs"] += 1
            *answer, retiring = answer
            keep = not retiring
            if retiring:
                self.stats["recycled"] += 1
            if answer[0] == "ok":
                return answer[1]
            _, kind, message = answer
            if kind == "MemoryError":
                self.stats["out_of_memory"] += 1
                raise JobOutOfMemory(f"it needed more than the {self.limits.memory_mb} MB memory limit")
            raise JobFailed(kind, message)
        finally:
            log.debug("worker job %s took %.3f s", target, time.monotonic() - started)
            if keep and not self._closed:
                self._idle.put(worker)
            else:
                self._retire(worker)
                if not self._closed:
                    self._idle.put(self._spawn())

    def close(self) -> None:
        """Stop every worker (idle ones at once; busy ones are killed as well)."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            with contextlib.suppress(BrokenPipeError, OSError):
                worker.conn.send(None)
            worker.kill()
        self._idle.put(None)
