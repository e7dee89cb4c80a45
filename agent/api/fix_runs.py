"""``/v1/fix-runs``: start a bounded repair loop (202 + id), poll it, stop it.

Each attempt is a smoke run on the server's queue (``/v1/smoke-runs``' manager), recorded as an experiment
linked to its parent (``GET /v1/experiments/{id}`` shows ``parent_id``, ``diff``, ``diagnosis``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from agent.api.deps import FixRunManagerDep
from agent.ids import RECORD_ID, RECORD_ID_HELP
from core.errors import ApiError
from tools.fixrun.models import FixRunRequest
from tools.fixrun.service import FixRunsBusy, FixRunState, UnknownFixRun

router = APIRouter(prefix="/v1/fix-runs", tags=["fix-runs"])


FixId = Annotated[str, Path(pattern=RECORD_ID, description=f"The fix-run's id: {RECORD_ID_HELP}.")]


def _unknown(loop_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no fix-run with id {loop_id!r}", {"id": loop_id})


@router.post(
    "",
    status_code=202,
    responses={
        429: {"description": "Too many fix-runs are running; try again later."},
        503: {"description": "The smoke-run queue is not running (see /readyz)."},
    },
)
async def submit_fix_run(
    body: FixRunRequest, response: Response, manager: FixRunManagerDep
) -> dict[str, str]:
    """Start the loop on a copy of the files; answers at once. Poll GET /v1/fix-runs/{id}."""
    from tools.smoke import SubmissionTooLarge, check_submission_size

    try:
        check_submission_size(body.files)
        loop_id = manager.submit(body)
    except SubmissionTooLarge as exc:
        raise ApiError(413, "payload_too_large", str(exc)) from exc
    except FixRunsBusy as exc:
        raise ApiError(429, "too_many_fix_runs", str(exc)) from exc
    response.headers["Location"] = f"/v1/fix-runs/{loop_id}"
    return {"id": loop_id, "status": "running"}


@router.get("/{loop_id}")
async def get_fix_run(loop_id: FixId, manager: FixRunManagerDep) -> FixRunState:
    """The loop's attempts so far (each with its diagnosis and repair), and the report once it has finished."""
    try:
        return manager.get(loop_id)
    except UnknownFixRun as exc:
        raise _unknown(loop_id) from exc


@router.delete("/{loop_id}")
async def cancel_fix_run(loop_id: FixId, manager: FixRunManagerDep) -> FixRunState:
    """Stop the loop after its running attempt; answers with its state."""
    try:
        return manager.cancel(loop_id)
    except UnknownFixRun as exc:
        raise _unknown(loop_id) from exc
