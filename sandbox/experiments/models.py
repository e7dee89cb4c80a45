"""The experiment record's data: what a stored run is, its environment, metrics, lineage and comparisons."""

from __future__ import annotations

import hashlib
import platform
import uuid
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

from pydantic import BaseModel, Field

from sandbox.spec import RunResult, RunSpec

# The error of a run that a server crash (or kill -9) interrupted, written when the next server starts.
RESTARTED_ERROR = "the server restarted during the run"

MAX_COMPARE = 10


class ExperimentNotFound(KeyError):
    """No experiment has this id (the API answers 404, the CLI exits 2)."""

    def __init__(self, experiment_ids: Iterable[str]) -> None:
        self.experiment_ids = list(experiment_ids)
        super().__init__(", ".join(self.experiment_ids))

    def __str__(self) -> str:
        return f"unknown experiment id(s): {', '.join(self.experiment_ids)}"


class ExperimentEnvironment(BaseModel):
    """Where a run ran: enough to explain why two runs of the same code differ."""

    python: str
    torch: str | None = None
    lightning: str | None = None
    pytorch_lightning: str | None = None
    platform: str
    device: str | None = None
    isolation: str | None = None
    backend: str | None = None


class ExperimentMetrics(BaseModel):
    """What a run measured, flattened for tables (the loss curve is kept whole)."""

    status: str
    error: str | None = None
    steps: int = 0
    losses: list[float] = Field(default_factory=list)
    first_loss: float | None = None
    final_loss: float | None = None
    min_loss: float | None = None
    loss_decreased: bool | None = None
    samples_per_s: float | None = None
    peak_memory_mb: float | None = None
    peak_gpu_memory_mb: float | None = None
    duration_s: float = 0.0
    time_to_first_step_s: float | None = None


class Lineage(BaseModel):
    """Where a run comes from in a repair loop's run tree: its parent, the diff that made it, and why."""

    parent_id: str | None = None
    diff: str | None = None
    diagnosis: dict[str, Any] | None = None


class ExperimentSummary(BaseModel):
    """One line of the experiment list (no file contents, no full spec)."""

    id: str
    run_id: str
    created_at: str
    status: str
    code_hash: str
    reproduces: str | None = None
    steps: int
    seed: int
    device: str | None = None
    final_loss: float | None = None
    loss_decreased: bool | None = None
    duration_s: float = 0.0
    file_names: list[str] = Field(default_factory=list)


class Experiment(BaseModel):
    """A recorded run in full: spec (without files), files, environment, metrics and the original result."""

    id: str
    run_id: str
    created_at: str
    code_hash: str
    reproduces: str | None = None
    spec: dict[str, Any]
    environment: ExperimentEnvironment
    metrics: ExperimentMetrics
    result: RunResult
    file_names: list[str]
    files: dict[str, str] | None = Field(default=None, description="File texts, when asked for.")
    parent_id: str | None = Field(
        default=None, description="The experiment this attempt repaired (run tree)."
    )
    diff: str | None = Field(default=None, description="Unified diff from the parent's code to this run's.")
    diagnosis: dict[str, Any] | None = Field(
        default=None, description="The parent's diagnosis that led here."
    )

    def run_spec(self) -> RunSpec:
        """The spec that re-runs this experiment exactly (same files, steps, seed, limits)."""
        if self.files is None:
            raise ValueError("experiment loaded without its files; use ExperimentStore.get(..., files=True)")
        return RunSpec.model_validate({**self.spec, "files": self.files})


class ComparisonRow(BaseModel):
    """One experiment's column in a side-by-side comparison."""

    id: str
    created_at: str
    status: str
    code_hash: str
    steps: int
    seed: int
    device: str | None = None
    first_loss: float | None = None
    final_loss: float | None = None
    min_loss: float | None = None
    loss_decreased: bool | None = None
    samples_per_s: float | None = None
    peak_memory_mb: float | None = None
    duration_s: float = 0.0


class Comparison(BaseModel):
    """Several experiments side by side: a metrics table, the loss curves, and what differs in their specs."""

    ids: list[str]
    rows: list[ComparisonRow]
    loss_curves: dict[str, list[float]]
    same_code: bool
    differences: dict[str, list[Any]] = Field(
        default_factory=dict, description="Spec fields (and code_hash) whose values differ, one value per id."
    )


def code_hash(files: Mapping[str, str]) -> str:
    """sha256 over the files sorted by path; path and text are length-prefixed so no two projects collide."""
    digest = hashlib.sha256()
    for path in sorted(files):
        for part in (path.encode(), files[path].encode()):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def capture_environment(
    result: RunResult, *, isolation: str | None = None, backend: str | None = None
) -> ExperimentEnvironment:
    """The run's environment, read from package metadata (cheap: nothing heavy is imported)."""
    return ExperimentEnvironment(
        python=platform.python_version(),
        torch=_version("torch"),
        lightning=_version("lightning"),
        pytorch_lightning=_version("pytorch-lightning"),
        platform=platform.platform(terse=True),
        device=result.device,
        isolation=isolation,
        backend=backend,
    )


def metrics_of(result: RunResult) -> ExperimentMetrics:
    """The flat metrics of one run result."""
    losses = list(result.losses)
    return ExperimentMetrics(
        status=result.status,
        error=result.error,
        steps=result.steps,
        losses=losses,
        first_loss=losses[0] if losses else None,
        final_loss=losses[-1] if losses else None,
        min_loss=min(losses) if losses else None,
        loss_decreased=result.loss_decreased,
        samples_per_s=result.samples_per_s,
        peak_memory_mb=result.peak_memory_mb,
        peak_gpu_memory_mb=result.peak_gpu_memory_mb,
        duration_s=result.duration_s,
        time_to_first_step_s=result.time_to_first_step_s,
    )


def new_experiment_id() -> str:
    """A short random id that is safe in URLs and file names."""
    return "exp-" + uuid.uuid4().hex[:16]


class CurveMatch(BaseModel):
    """Whether two loss curves agree within a tolerance, and by how much they differ."""

    matches: bool
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    steps_compared: int = 0
    rtol: float
    atol: float
    message: str


class ReproduceReport(BaseModel):
    """A recorded experiment re-run with its seed: did the loss curve come out the same?"""

    experiment_id: str
    reproduction_id: str | None = Field(default=None, description="Experiment id of the re-run.")
    original_status: str
    status: str
    matches: bool
    curve: CurveMatch
    result: RunResult
