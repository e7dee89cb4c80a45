"""``/v1/smoke-runs``: submit a sandboxed smoke run (202 + id), poll it, follow it live (SSE), cancel it.

The router only translates HTTP to the ``SmokeRunManager`` on ``app.state.smoke_manager``; the lifespan hooks
below create it at start-up and stop it (cancelling whatever still runs) at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from agent.api.deps import SmokeManagerDep
from agent.ids import RECORD_ID, RECORD_ID_HELP
from core.errors import ApiError
from sandbox.manager import ManagerNotRunning, QueueFull, SmokeRunManager, UnknownRun
from sandbox.spec import RunResult
from tools.smoke import SmokeRunRequest, SubmissionTooLarge

router = APIRouter(prefix="/v1/smoke-runs", tags=["smoke-runs"])


async def startup(app: FastAPI) -> None:
    """Create and start the smoke-run manager (reaps leftovers of a crashed predecessor first)."""
    settings = getattr(app.state, "settings", None)
    if settings is None:
        from core.settings import get_settings

        settings = get_settings()
    manager = SmokeRunManager(settings)
    await manager.start()
    app.state.smoke_manager = manager


async def shutdown(app: FastAPI) -> None:
    """Cancel running smoke runs and release the sandbox backend."""
    manager: SmokeRunManager | None = getattr(app.state, "smoke_manager", None)
    if manager is not None:
        await manager.stop()


Manager = SmokeManagerDep
RunId = Annotated[str, Path(pattern=RECORD_ID, description=f"The smoke run's id: {RECORD_ID_HELP}.")]


def _unknown(run_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no smoke run with id {run_id!r}", {"id": run_id})


@router.post(
    "",
    status_code=202,
    responses={
        429: {"description": "Too many runs are queued; try again later."},
        503: {"description": "The smoke-run queue is not running (see /readyz)."},
    },
)
async def submit_smoke_run(body: SmokeRunRequest, response: Response, manager: Manager) -> dict[str, str]:
    """Queue a smoke run; answers at once with its id. Follow it with GET .../{id} or .../{id}/events."""
    try:
        spec = body.to_run_spec(manager.settings)
        run_id = manager.submit(spec)
    except SubmissionTooLarge as exc:
        raise ApiError(413, "payload_too_large", str(exc)) from exc
    except QueueFull as exc:
        raise ApiError(429, "queue_full", str(exc)) from exc
    except ManagerNotRunning as exc:
        raise ApiError(503, "smoke_runs_unavailable", str(exc)) from exc
    response.headers["Location"] = f"/v1/smoke-runs/{run_id}"
    return {"id": run_id, "status": manager.get(run_id).status}


@router.get("/{run_id}")
async def get_smoke_run(run_id: RunId, manager: Manager) -> RunResult:
    """The run's result: live (status, steps and losses so far) while it runs, final afterwards."""
    try:
        return manager.get(run_id)
    except UnknownRun as exc:
        raise _unknown(run_id) from exc


def _known_run(run_id: RunId, manager: Manager) -> str:
    """Dependency: 404 before the event stream starts (afterwards a status code can no longer be sent)."""
    try:
        manager.get(run_id)
    except UnknownRun as exc:
        raise _unknown(run_id) from exc
    return run_id


@router.get("/{run_id}/events", response_class=EventSourceResponse)
async def smoke_run_events(
    run_id: Annotated[str, Depends(_known_run)], manager: Manager
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events: ``status``, ``step``, ``log``, then one ``done`` with the final result.

    Late subscribers first get the current status and the steps so far. Keep-alive comments are sent
    every 15 s while nothing happens.
    """
    async for event in manager.subscribe(run_id):
        kind = str(event.get("type", "message"))
        data: dict[str, Any] = (
            event["result"] if kind == "done" else {k: v for k, v in event.items() if k != "type"}
        )
        yield ServerSentEvent(event=kind, data=data)


@router.delete("/{run_id}")
async def cancel_smoke_run(run_id: RunId, manager: Manager) -> RunResult:
    """Cancel a queued or running run; answers with its final result (a finished run is returned as is)."""
    try:
        return await manager.cancel(run_id)
    except UnknownRun as exc:
        raise _unknown(run_id) from exc
