"""Running a spec and recording it (outside the server), and re-running a recorded experiment to reproduce it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.experiments.compare import compare_curves
from sandbox.experiments.models import Experiment, Lineage, ReproduceReport, capture_environment
from sandbox.experiments.store import ExperimentStore
from sandbox.spec import RunResult, RunSpec

if TYPE_CHECKING:
    from core.settings import Settings

# --- Reproduction ---

CPU_RTOL = 1e-4
CPU_ATOL = 1e-6
# GPU kernels are not bitwise deterministic by default (atomics in reductions): allow more.
CUDA_RTOL = 1e-2
CUDA_ATOL = 1e-4


def reproduction_report(original: Experiment, rerun: RunResult) -> ReproduceReport:
    """Judge a re-run against the recorded experiment (tolerance by the device the original ran on)."""
    on_gpu = (original.environment.device or "").startswith("cuda")
    rtol, atol = (CUDA_RTOL, CUDA_ATOL) if on_gpu else (CPU_RTOL, CPU_ATOL)
    curve = compare_curves(original.metrics.losses, list(rerun.losses), rtol=rtol, atol=atol)
    same_status = original.metrics.status == rerun.status
    if not same_status:
        curve = curve.model_copy(
            update={
                "matches": False,
                "message": f"status differs: {original.metrics.status} vs {rerun.status}; {curve.message}",
            }
        )
    return ReproduceReport(
        experiment_id=original.id,
        reproduction_id=rerun.experiment_id,
        original_status=original.metrics.status,
        status=rerun.status,
        matches=curve.matches and same_status,
        curve=curve,
        result=rerun,
    )


def run_and_record(
    spec: RunSpec,
    settings: Settings,
    store: ExperimentStore,
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    cancel: threading.Event | None = None,
    reproduces: str | None = None,
    lineage: Lineage | None = None,
) -> Experiment:
    """One run on a fresh backend of ``settings.sandbox_backend``, recorded: the path outside the server.

    An unusable sandbox (and no ``sandbox_unsafe``) gives a recorded ``rejected`` run, not an exception.
    """
    from sandbox.backends import execute, final_result, get_backend, new_run_id

    backend = get_backend(settings)
    try:
        check = backend.check()
        run_id = new_run_id()
        if not check.usable and not settings.sandbox_unsafe:
            result = final_result(spec, run_id, "rejected", f"sandbox unavailable: {check.reason}")
        else:
            result = execute(backend, spec, run_id=run_id, on_event=on_event, cancel=cancel)
    finally:
        backend.close()
    environment = capture_environment(result, isolation=check.isolation, backend=backend.name)
    return store.record(spec, result, environment=environment, reproduces=reproduces, lineage=lineage)


def reproduce(
    experiment_id: str,
    settings: Settings | None = None,
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> ReproduceReport:
    """Re-run a recorded experiment in-process (same files, spec and seed) and compare its loss curve.

    Synchronous, for the CLI; the server goes through ``SmokeRunManager.reproduce`` to share its queue.
    Raises ExperimentNotFound. The re-run is recorded too, marked as reproducing the original.
    """
    from core.settings import get_settings

    settings = settings or get_settings()
    with ExperimentStore(settings.experiments_db) as store:
        original = store.get(experiment_id)
        recorded = run_and_record(
            original.run_spec(), settings, store, on_event=on_event, reproduces=original.id
        )
    return reproduction_report(original, recorded.result)
