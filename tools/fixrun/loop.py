"""The bounded repair loop: run in the sandbox -> diagnose -> repair with a LibCST edit -> run again.

Stops at the first run that trains (finite, decreasing loss), when no recipe applies, when a repair would
give code already tried, after ``attempts`` repairs, or when the wall-clock budget is spent. Every run is an
experiment linked to its parent (parent id, the diff that made it, the parent's diagnosis): a run tree.
The submitted files are never modified: the loop edits copies (the CLI writes back only with ``--in-place``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.experiments import Experiment, ExperimentStore, Lineage, code_hash, run_and_record
from sandbox.spec import RunLimits, RunSpec
from tools.diagnose import diagnose
from tools.fixrun.models import Attempt, FixRunReport, FixRunRequest, RepairStep
from tools.fixrun.project import detect_entrypoint
from tools.fixrun.recipes import repair
from tools.review.fix import unified_diff

if TYPE_CHECKING:
    from core.settings import Settings

# One sandboxed run: (spec, lineage) -> the recorded experiment.
Runner = Callable[[RunSpec, Lineage], Experiment]
ProgressCallback = Callable[[dict[str, Any]], None]
MIN_RUN_S = 5.0  # a run given less than this by the budget would only time out: stop instead


def run_spec(request: FixRunRequest, files: dict[str, str], settings: Settings, timeout_s: float) -> RunSpec:
    """The smoke-run spec of one attempt."""
    limits = RunLimits(timeout_s=timeout_s)
    if request.memory_mb is not None:
        limits = limits.model_copy(update={"memory_mb": request.memory_mb})
    return RunSpec(
        files=files,
        steps=request.steps or settings.smoke_default_steps,
        device=request.device,
        seed=request.seed,
        entrypoint=request.entrypoint if request.entrypoint is not None else detect_entrypoint(files),
        limits=limits,
    )


def store_runner(settings: Settings, store: ExperimentStore, cancel: threading.Event | None = None) -> Runner:
    """Runs on a fresh backend of the configured kind, recorded in ``store`` (the CLI and the API)."""

    def run(spec: RunSpec, lineage: Lineage) -> Experiment:
        return run_and_record(spec, settings, store, lineage=lineage, cancel=cancel)

    return run


def fix_run(
    request: FixRunRequest,
    settings: Settings,
    runner: Runner,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    loop_id: str | None = None,
) -> FixRunReport:
    """Run the loop on a copy of ``request.files``; returns every attempt and the final code."""
    started = time.monotonic()
    original = dict(request.files)
    files = dict(original)
    attempts: list[Attempt] = []
    tried = {code_hash(files)}
    lineage = Lineage()
    repair_step: RepairStep | None = None
    outcome = "attempts_exhausted"
    trained_at: float | None = None
    timeout_default = request.timeout_s or settings.smoke_default_timeout_s
    entrypoint = request.entrypoint if request.entrypoint is not None else detect_entrypoint(files)

    def emit(event: dict[str, Any]) -> None:
        if on_progress is not None:
            on_progress(event)

    while True:
        if cancel is not None and cancel.is_set():
            outcome = "cancelled"
            break
        remaining = request.budget_s - (time.monotonic() - started)
        if remaining < MIN_RUN_S:
            outcome = "budget_exhausted"
            break
        spec = run_spec(request, files, settings, min(timeout_default, remaining))
        emit(
            {
                "type": "attempt_started",
                "index": len(attempts),
                "repair": repair_step.description if repair_step else None,
            }
        )
        run_started = time.monotonic() - started
        experiment = runner(spec, lineage)
        result = experiment.result
        diagnosis = diagnose(result, files)
        attempt = Attempt(
            index=len(attempts),
            experiment_id=experiment.id,
            parent_id=lineage.parent_id,
            run_id=result.id,
            status=result.status,
            repair=repair_step,
            diagnosis=diagnosis,
            losses=list(result.losses),
            duration_s=result.duration_s,
            started_at_s=round(run_started, 3),
        )
        attempts.append(attempt)
        emit({"type": "attempt_finished", "attempt": attempt.model_dump(mode="json")})
        if diagnosis.trains:
            outcome = "trains"
            trained_at = time.monotonic() - started
            break
        if result.status == "cancelled":
            outcome = "cancelled"
            break
        if len(attempts) > request.attempts:
            outcome = "attempts_exhausted"
            break
        fixed = repair(diagnosis, files)
        if fixed is None:
            outcome = "no_recipe"
            break
        digest = code_hash(fixed.files)
        if digest in tried:
            outcome = "repeated"
            break
        tried.add(digest)
        repair_step = RepairStep(
            recipe=fixed.recipe, description=fixed.description, diff=fixed.diff, changed=fixed.changed
        )
        lineage = Lineage(
            parent_id=experiment.id, diff=fixed.diff, diagnosis=diagnosis.model_dump(mode="json")
        )
        files = fixed.files
    diff = "".join(unified_diff(p, original[p], files[p]) for p in original if files.get(p) != original[p])
    report = FixRunReport(
        id=loop_id or "fix-" + uuid.uuid4().hex[:12],
        outcome=outcome,  # type: ignore[arg-type]
        trained=outcome == "trains",
        summary=_summary(outcome, attempts),
        attempts=attempts,
        final_files=files,
        diff=diff,
        entrypoint=entrypoint,
        duration_s=round(time.monotonic() - started, 3),
        time_to_training_s=round(trained_at, 3) if trained_at is not None else None,
    )
    emit({"type": "finished", "outcome": outcome})
    return report


def _summary(outcome: str, attempts: list[Attempt]) -> str:
    repairs = len(attempts) - 1
    last = attempts[-1].diagnosis if attempts else None
    if outcome == "trains":
        if repairs == 0:
            return "It already trains: nothing to repair."
        return f"It trains after {repairs} repair(s): {last.title if last else ''}."
    what = f"last diagnosis: {last.kind} ({last.title})" if last else "no run"
    reasons = {
        "no_recipe": "No repair recipe applies",
        "attempts_exhausted": f"Still not training after {repairs} repair(s)",
        "budget_exhausted": "The time budget ran out",
        "cancelled": "Cancelled",
        "repeated": "The next repair would give code already tried",
    }
    return f"{reasons.get(outcome, outcome)}; {what}."
