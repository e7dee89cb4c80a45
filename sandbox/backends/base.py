"""The backend interface and what every backend shares: the protocol, run ids, final results, ``execute``.

Everything above the sandbox (the run queue, the CLI, the agent's tool) talks to a ``SandboxBackend`` and
calls ``execute`` instead of ``backend.run`` directly, so that a broken backend can never take a run's status
with it: whatever happens, the caller gets a final ``RunResult``. Backend modules import this one, never the
package, so there is no import loop between backends.
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


def reap_local_leftovers(settings: Settings) -> None:
    """Remove what killed local runs left on this host (``sandbox.cleanup``); every backend's workers call it."""
    from sandbox.cleanup import reap_leftovers

    reap_leftovers(settings)


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
