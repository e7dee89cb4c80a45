"""Choosing and driving a sandbox backend: ``local`` (isolated processes on this host) or ``ray`` (the same
sandbox on a Ray worker, the scale-out path).

Everything above the sandbox (the run queue, the CLI, the agent's tool) talks to a ``SandboxBackend`` and
calls ``execute`` instead of ``backend.run`` directly, so that a broken backend can never take a run's status
with it: whatever happens, the caller gets a final ``RunResult``.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sandbox.spec import RunResult, RunSpec

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

EventCallback = Callable[[dict[str, Any]], None]


class SandboxStatus(Protocol):
    """What ``check()`` answers (``sandbox.local.SandboxCheck`` has this shape)."""

    usable: bool
    reason: str
    isolation: str


class SandboxBackend(Protocol):
    """The one interface every backend offers."""

    name: str

    def check(self) -> SandboxStatus:
        """Can runs be isolated here, and how."""
        ...

    def run(
        self,
        spec: RunSpec,
        *,
        run_id: str,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Run one spec to a final result; synchronous and thread-safe."""
        ...

    def reap_leftovers(self) -> None:
        """Remove what killed runs left behind (processes, cgroups, workdirs)."""
        ...

    def warm_up(self) -> None:
        """Do the slow one-time start-up now (before serving), not inside the first run."""
        ...

    def close(self) -> None:
        """Release the backend's resources (a Ray runtime it started)."""
        ...


class LocalBackend:
    """The isolated local sandbox (``sandbox.local.LocalSandbox``) behind the backend interface."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        from sandbox.local import LocalSandbox

        self.settings = settings
        self._sandbox = LocalSandbox(settings)

    def check(self) -> SandboxStatus:
        return self._sandbox.check()

    def run(
        self,
        spec: RunSpec,
        *,
        run_id: str,
        on_event: EventCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        return self._sandbox.run(spec, run_id=run_id, on_event=on_event, cancel=cancel)

    def reap_leftovers(self) -> None:
        reap_local_leftovers(self.settings, self._sandbox)

    def warm_up(self) -> None:
        self._sandbox.check()  # the host probe is cached per process
        self._sandbox.start_warm_pool(self.settings.smoke_warm_sandboxes)

    def close(self) -> None:
        self._sandbox.close()


def reap_local_leftovers(settings: Settings, sandbox: Any = None) -> None:
    """Call the local sandbox's reaper, wherever it lives (module function or method)."""
    from sandbox import local

    reaper = getattr(local, "reap_leftovers", None)
    if callable(reaper):
        try:
            reaper(settings)
        except TypeError:
            reaper()
        return
    target = sandbox if sandbox is not None else local.LocalSandbox(settings)
    method = getattr(target, "reap_leftovers", None)
    if callable(method):
        method()


def get_backend(settings: Settings) -> SandboxBackend:
    """The backend ``settings.sandbox_backend`` names (``MLAGENT_SANDBOX_BACKEND=local|ray``)."""
    if settings.sandbox_backend == "ray":
        from sandbox.ray_backend import RayBackend

        return RayBackend(settings)
    return LocalBackend(settings)


def new_run_id() -> str:
    """A short random run id, safe in URLs, file and cgroup names."""
    return "run-" + uuid.uuid4().hex[:16]


def final_result(spec: RunSpec, run_id: str, status: str, error: str, **fields: Any) -> RunResult:
    """A result for a run the sandbox never finished itself (rejected, cancelled while queued, crashed)."""
    return RunResult.model_validate(
        {"id": run_id, "status": status, "error": error, "limits": spec.limits.model_dump(), **fields}
    )


def execute(
    backend: SandboxBackend,
    spec: RunSpec,
    *,
    run_id: str,
    on_event: EventCallback | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """``backend.run`` that always returns a final result, with the streamed losses when it has none.

    An unusable sandbox becomes ``rejected`` with its reason; any other exception (a bug, a lost Ray worker)
    becomes ``failed`` with a one-line error, logged with its traceback for the operator.
    """
    started = time.monotonic()
    streamed: list[float] = []

    def forward(event: dict[str, Any]) -> None:
        if event.get("type") == "step" and isinstance(event.get("loss"), int | float):
            streamed.append(float(event["loss"]))
        if on_event is not None:
            on_event(event)

    try:
        result = backend.run(spec, run_id=run_id, on_event=forward, cancel=cancel)
    except Exception as exc:
        if type(exc).__name__ == "SandboxUnavailable":
            return final_result(spec, run_id, "rejected", f"sandbox unavailable: {exc}")
        log.error("backend %s crashed on run %s:\n%s", backend.name, run_id, traceback.format_exc())
        return final_result(
            spec,
            run_id,
            "failed",
            f"internal error in the {backend.name} sandbox backend: {type(exc).__name__}: {exc}",
            duration_s=round(time.monotonic() - started, 3),
        )
    if result.id != run_id:
        result = result.model_copy(update={"id": run_id})
    if not result.losses and streamed:
        # A run stopped from outside (cancel, timeout, OOM kill) never sent its own summary: keep the
        # losses it streamed, so the record shows how far training got.
        result = result.model_copy(update={"losses": streamed, "steps": max(result.steps, len(streamed))})
    return result
