"""The Ray backend: each smoke run is a Ray Core task that runs the local sandbox on a Ray worker.

This is the scale-out path: Ray schedules runs onto nodes with free CPUs or GPUs (``num_gpus=1`` for CUDA
runs, with ``CUDA_VISIBLE_DEVICES`` set by Ray), and the worker drives the same isolated ``LocalSandbox`` as
the local backend. The untrusted code never runs in the Ray worker process itself: the worker is only the
sandbox's supervisor. ``max_calls=1`` gives every run a fresh worker process, ``max_retries=0`` keeps a
crashing submission from being re-run.

The task is a Ray *generator*: it streams the sandbox's events back as they happen and ends with the result.
Cancelling first asks politely (``ray.cancel(force=False)`` raises KeyboardInterrupt in the worker, which sets
the sandbox's own cancel event and waits for its kill and clean-up); only when that does not end the task in
time is the worker killed (``force=True``) and the sandbox's leftovers reaped.

Without ``RAY_ADDRESS`` a private local Ray instance is started on first use (~2 s, ~700 MB) and shut down by
``close()``; with it, runs go to that cluster.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sandbox.backends.base import EventCallback, SandboxStatus, final_result, reap_local_leftovers
from sandbox.spec import RunResult, RunSpec

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

SOFT_CANCEL_GRACE_S = 10.0  # the sandbox promises to stop in well under a second; a stuck worker gets killed
WORKER_EXIT_WAIT_S = 5.0
STARTUP_ALLOWANCE_S = 60.0  # worker start + imports, on top of the run's own timeout
POLL_S = 0.25


def restore_default_sigint() -> None:
    """Make SIGINT raise KeyboardInterrupt again in this process.

    A process started from a non-interactive shell's background job (as CI runners may do) inherits SIGINT as
    ignored, and Python then keeps it ignored: Ray's soft cancel (which interrupts the task with SIGINT) and a
    user's Ctrl-C would both be lost. Only the main thread may set handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _sandbox_task(settings: Settings, spec_json: str, run_id: str) -> Iterator[dict[str, Any]]:
    """Runs on the Ray worker: supervise one LocalSandbox run, streaming its events, then its result."""
    import queue
    import socket

    from sandbox.local import LocalSandbox

    restore_default_sigint()
    spec = RunSpec.model_validate_json(spec_json)
    events: queue.Queue[dict[str, Any] | None] = queue.Queue()
    cancel = threading.Event()
    outcome: dict[str, Any] = {}

    def supervise() -> None:
        try:
            outcome["result"] = LocalSandbox(settings).run(
                spec, run_id=run_id, on_event=events.put, cancel=cancel
            )
        except Exception as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"
            outcome["unavailable"] = type(exc).__name__ == "SandboxUnavailable"
        finally:
            events.put(None)

    thread = threading.Thread(target=supervise, name=f"sandbox-{run_id}", daemon=True)
    thread.start()
    try:
        yield {"kind": "worker", "pid": os.getpid(), "host": socket.gethostname()}
        while True:
            try:
                event = events.get(timeout=POLL_S)  # short waits: KeyboardInterrupt lands between them
            except queue.Empty:
                continue
            if event is None:
                break
            yield {"kind": "event", "event": event}
        thread.join()
        if "result" in outcome:
            yield {"kind": "result", "result": outcome["result"].model_dump(mode="json")}
        else:
            yield {"kind": "error", "error": outcome.get("error"), "unavailable": outcome.get("unavailable")}
    except (KeyboardInterrupt, GeneratorExit):
        # ray.cancel(force=False): stop the sandbox through its own kill path and wait for its clean-up
        # before the task (and with max_calls=1, this worker process) ends.
        cancel.set()
        thread.join(timeout=SOFT_CANCEL_GRACE_S)
        raise


class RayBackend:
    """Runs each smoke run as a Ray task that drives the local sandbox on a worker (see module docstring)."""

    name = "ray"

    def __init__(self, settings: Settings) -> None:
        # Workers have another cwd: make the data dir absolute. Secrets stay with the API process.
        self.settings = settings.model_copy(
            update={"data_dir": settings.data_dir.resolve(), "openai_api_key": None, "api_key": None}
        )
        self._lock = threading.Lock()
        self._remote: Any = None
        self._started_ray = False

    # --- Ray runtime ---

    def _ray(self) -> Any:
        """Import Ray and connect (or start a local instance) on first use."""
        import ray

        with self._lock:
            if not ray.is_initialized():
                if os.environ.get("RAY_ADDRESS"):
                    ray.init(log_to_driver=False, namespace="mlagent")
                else:
                    ray.init(
                        num_cpus=max(os.cpu_count() or 1, self.settings.smoke_concurrency),
                        include_dashboard=False,
                        log_to_driver=False,
                        object_store_memory=128 * 1024 * 1024,
                        namespace="mlagent",
                    )
                    self._started_ray = True
            if self._remote is None:
                self._remote = ray.remote(max_calls=1, max_retries=0, num_cpus=1)(_sandbox_task)
        return ray

    def close(self) -> None:
        """Shut down the local Ray instance if this backend started it."""
        with self._lock:
            if self._started_ray:
                import ray

                ray.shutdown()
                self._started_ray = False
                self._remote = None

    def warm_up(self) -> None:
        """Start (or connect to) Ray now: ``ray.init`` holds the GIL for up to ~1 s at a time, which would stall
        a server's event loop if it happened during the first run instead of at start-up."""
        self._ray()

    def check(self) -> SandboxStatus:
        """The local sandbox's check, run here: in local mode the workers share this host."""
        from sandbox.local import LocalSandbox

        status = LocalSandbox(self.settings).check()
        return dataclasses.replace(status, isolation=f"ray+{status.isolation}")  # type: ignore[type-var]

    def reap_leftovers(self) -> None:
        reap_local_leftovers(self.settings)

    # --- runs ---

    def _wants_gpu(self, ray: Any, spec: RunSpec) -> bool:
        if spec.device == "cpu":
            return False
        has_gpu = float(ray.cluster_resources().get("GPU", 0)) >= 1
        return spec.device == "cuda" or has_gpu

    def run(
        self,
        spec: RunSpec,
        *,
        run_id: str,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Submit the run as a Ray task and follow it to a final result (synchronous, thread-safe)."""
        started = time.monotonic()
        ray = self._ray()
        if spec.device == "cuda" and float(ray.cluster_resources().get("GPU", 0)) < 1:
            return final_result(
                spec, run_id, "rejected", "device 'cuda' requested but the Ray cluster has no GPU"
            )
        num_gpus = 1 if self._wants_gpu(ray, spec) else 0
        task = self._remote.options(num_gpus=num_gpus, name=f"smoke-{run_id}")
        stream = task.remote(self.settings, spec.model_dump_json(), run_id)
        follower = _Follower(ray, stream, spec, run_id, on_event, started)
        deadline = started + spec.limits.timeout_s + STARTUP_ALLOWANCE_S
        while True:
            if cancel is not None and cancel.is_set():
                return self._stop(follower, "cancelled", "cancelled")
            if time.monotonic() > deadline:
                return self._stop(follower, "timeout", "the Ray task outlived its deadline")
            result = follower.poll()
            if result is not None:
                return result

    def _stop(self, follower: _Follower, status: str, reason: str) -> RunResult:
        """Soft-cancel, then force-kill if needed; make sure the sandbox left nothing behind."""
        ray = follower.ray
        ray.cancel(follower.stream, force=False)
        grace_end = time.monotonic() + SOFT_CANCEL_GRACE_S
        while time.monotonic() < grace_end and not follower.ended:
            follower.poll()
        if not follower.ended:
            log.warning("Ray task of run %s ignored a soft cancel; killing its worker", follower.run_id)
            ray.cancel(follower.stream, force=True)
            follower.wait_worker_exit()
            reap_local_leftovers(self.settings)
        else:
            follower.wait_worker_exit()
        if follower.result is not None:  # the run ended on its own before the cancel took effect
            return follower.result
        return follower.partial(status, reason)


class _Follower:
    """Driver side of one Ray generator task: turns its stream into events and a final result."""

    def __init__(
        self,
        ray: Any,
        stream: Any,
        spec: RunSpec,
        run_id: str,
        on_event: EventCallback | None,
        started: float,
    ) -> None:
        self.ray, self.stream, self.spec, self.run_id = ray, stream, spec, run_id
        self.on_event, self.started = on_event, started
        self.worker_pid: int | None = None
        self.worker_host: str | None = None
        self.losses: list[float] = []
        self.ended = False
        self.result: RunResult | None = None
        self.error: str | None = None

    def poll(self) -> RunResult | None:
        """Wait up to POLL_S for the next item; returns the final result once there is one."""
        if self.ended:
            return self.result or self.partial("failed", self.error or "the Ray task ended without a result")
        ready, _ = self.ray.wait([self.stream], timeout=POLL_S)
        if not ready:
            return None
        try:
            item = self.ray.get(next(self.stream))
        except StopIteration:
            self.ended = True
            return self.result or self.partial("failed", self.error or "the Ray task ended without a result")
        except self.ray.exceptions.TaskCancelledError:
            self.ended = True
            return self.partial("cancelled", "cancelled")
        except self.ray.exceptions.RayError as exc:
            self.ended = True
            self.error = f"Ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
            return self.partial("failed", self.error)
        return self._take(item)

    def _take(self, item: dict[str, Any]) -> RunResult | None:
        kind = item.get("kind")
        if kind == "worker":
            self.worker_pid, self.worker_host = int(item["pid"]), str(item["host"])
        elif kind == "event":
            event = item["event"]
            if event.get("type") == "step" and isinstance(event.get("loss"), int | float):
                self.losses.append(float(event["loss"]))
            if self.on_event is not None:
                self.on_event(event)
        elif kind == "result":
            self.result = RunResult.model_validate(item["result"])
            return self.result
        elif kind == "error":
            status = "rejected" if item.get("unavailable") else "failed"
            prefix = "sandbox unavailable" if item.get("unavailable") else "sandbox error on the Ray worker"
            self.result = self.partial(status, f"{prefix}: {item.get('error')}")
            return self.result
        return None

    def partial(self, status: str, error: str) -> RunResult:
        """A final result built from what the driver saw, for runs the worker could not report."""
        return final_result(
            self.spec,
            self.run_id,
            status,
            error,
            steps=len(self.losses),
            losses=self.losses,
            duration_s=round(time.monotonic() - self.started, 3),
        )

    def wait_worker_exit(self) -> None:
        """When the worker ran on this host, wait for its process to exit (it exits after its only task)."""
        import socket

        import psutil

        if self.worker_pid is None or self.worker_host != socket.gethostname():
            return
        end = time.monotonic() + WORKER_EXIT_WAIT_S
        while time.monotonic() < end:
            try:
                if psutil.Process(self.worker_pid).status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)
        log.warning("Ray worker %s of run %s still alive after cancel", self.worker_pid, self.run_id)
