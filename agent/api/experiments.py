"""``/v1/experiments``: recorded smoke runs: list, show, compare, plot, reproduce.

Reads go to the smoke-run manager's experiment store (on a thread: SQLite and matplotlib block); a
reproduction is queued like any other smoke run and answered once it has finished.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from agent.api.smoke import Manager
from agent.ids import RECORD_ID, RECORD_ID_HELP, RECORD_ID_LIST, RECORD_ID_LIST_HELP
from core.errors import ApiError
from sandbox.experiments import (
    MAX_COMPARE,
    Comparison,
    Experiment,
    ExperimentNotFound,
    ExperimentStore,
    ReproduceReport,
)
from sandbox.manager import ManagerNotRunning, QueueFull

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


def get_store(manager: Manager) -> ExperimentStore:
    """The experiment store of the running smoke-run manager."""
    if manager.store is None:
        raise ApiError(503, "smoke_runs_unavailable", "the experiment store is not open")
    return manager.store


Store = Annotated[ExperimentStore, Depends(get_store)]
ExperimentId = Annotated[str, Path(pattern=RECORD_ID, description=f"The experiment id: {RECORD_ID_HELP}.")]
# The pattern says what _parse_ids accepts, so the document and the check cannot disagree ("ids=" is a 422).
ExperimentIds = Annotated[str, Query(pattern=RECORD_ID_LIST, description=f"{RECORD_ID_LIST_HELP}, e.g. a,b.")]


def _not_found(exc: ExperimentNotFound) -> ApiError:
    return ApiError(404, "not_found", str(exc), {"ids": exc.experiment_ids})


def _parse_ids(ids: str) -> list[str]:
    parsed = [part.strip() for part in ids.split(",") if part.strip()]
    if not 2 <= len(parsed) <= MAX_COMPARE:
        raise ApiError(
            422,
            "validation_error",
            f"ids must list 2 to {MAX_COMPARE} comma-separated experiment ids, got {len(parsed)}",
            {"ids": parsed},
        )
    return parsed


@router.get("")
async def list_experiments(
    store: Store,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=2**63 - 1),  # SQLite integers are 64-bit
) -> dict[str, Any]:
    """Recorded experiments, newest first."""
    summaries, total = await asyncio.gather(
        asyncio.to_thread(store.list, limit=limit, offset=offset), asyncio.to_thread(store.count)
    )
    return {
        "experiments": [s.model_dump(mode="json") for s in summaries],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/compare")
async def compare_experiments(
    store: Store,
    ids: ExperimentIds,
) -> Comparison:
    """Side-by-side metrics, loss curves and the spec fields that differ."""
    try:
        return await asyncio.to_thread(store.compare, _parse_ids(ids))
    except ExperimentNotFound as exc:
        raise _not_found(exc) from exc


@router.get(
    "/compare/plot",
    responses={
        200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The loss-curve plot."}
    },
    response_class=Response,
)
async def plot_comparison(
    store: Store,
    ids: ExperimentIds,
    format: Literal["svg", "png"] = Query("svg"),
) -> Response:
    """The compared experiments' loss curves on one chart."""
    from sandbox.plots import media_type, render_loss_plot

    try:
        comparison = await asyncio.to_thread(store.compare, _parse_ids(ids))
    except ExperimentNotFound as exc:
        raise _not_found(exc) from exc
    image = await asyncio.to_thread(render_loss_plot, comparison.loss_curves, fmt=format, title="Loss curves")
    return Response(content=image, media_type=media_type(format))


@router.get("/{experiment_id}")
async def get_experiment(
    store: Store,
    experiment_id: ExperimentId,
    include_files: bool = Query(False, description="Include the submitted files' text."),
) -> Experiment:
    """One experiment: spec, environment, metrics, result (and files when asked)."""
    try:
        return await asyncio.to_thread(store.get, experiment_id, files=include_files)
    except ExperimentNotFound as exc:
        raise _not_found(exc) from exc


@router.get(
    "/{experiment_id}/plot",
    responses={
        200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The loss-curve plot."}
    },
    response_class=Response,
)
async def plot_experiment(
    store: Store,
    experiment_id: ExperimentId,
    format: Literal["svg", "png"] = Query("svg"),
) -> Response:
    """The experiment's loss curve."""
    from sandbox.plots import media_type, render_loss_plot

    try:
        experiment = await asyncio.to_thread(store.get, experiment_id, files=False)
    except ExperimentNotFound as exc:
        raise _not_found(exc) from exc
    image = await asyncio.to_thread(
        render_loss_plot,
        {experiment.id: experiment.metrics.losses},
        fmt=format,
        title=f"Loss curve of {experiment.id} ({experiment.metrics.status})",
    )
    return Response(content=image, media_type=media_type(format))


@router.post("/{experiment_id}/reproduce")
async def reproduce_experiment(experiment_id: ExperimentId, manager: Manager) -> ReproduceReport:
    """Re-run the experiment with its files, spec and seed; answers when done with whether the curves match."""
    try:
        return await manager.reproduce(experiment_id)
    except ExperimentNotFound as exc:
        raise _not_found(exc) from exc
    except QueueFull as exc:
        raise ApiError(429, "queue_full", str(exc)) from exc
    except ManagerNotRunning as exc:
        raise ApiError(503, "smoke_runs_unavailable", str(exc)) from exc
