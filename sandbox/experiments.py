"""The experiment record: every finished smoke run, kept in SQLite so it can be listed, compared and re-run.

A smoke run only proves something if it can be looked at again later, next to another run, and repeated. So
each run is stored with everything needed to reproduce it (the submitted files and the full spec, seed
included), the environment it ran in, and its metrics (the loss curve above all). One SQLite file in the data
dir is enough for a single service; the store is thread-safe because runs finish on worker threads.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import logging
import os
import platform
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from sandbox.spec import RunResult, RunSpec

if TYPE_CHECKING:
    from core.settings import Settings

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    reproduces TEXT,
    spec_json TEXT NOT NULL,
    environment_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    result_json TEXT NOT NULL,
    files_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS experiments_created ON experiments (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS experiments_run ON experiments (run_id);
CREATE TABLE IF NOT EXISTS accepted_runs (
    run_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    accepted_at REAL NOT NULL,
    started_at REAL,
    updated_at REAL NOT NULL,
    status TEXT NOT NULL,
    reproduces TEXT,
    backend TEXT,
    spec_json TEXT NOT NULL,
    files_json TEXT NOT NULL,
    losses_json TEXT NOT NULL DEFAULT '[]'
);
"""

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


class ExperimentStore:
    """SQLite-backed experiment records. One connection guarded by a lock: writes come from worker threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.commit()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ExperimentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(
        self,
        spec: RunSpec,
        result: RunResult,
        *,
        environment: ExperimentEnvironment | None = None,
        reproduces: str | None = None,
    ) -> Experiment:
        """Store one finished run; returns the experiment (its id is also set on the stored result)."""
        experiment_id = new_experiment_id()
        stored_result = result.model_copy(update={"experiment_id": experiment_id})
        env = environment or capture_environment(result)
        metrics = metrics_of(stored_result)
        spec_data = spec.model_dump(mode="json", exclude={"files"})
        created_at = datetime.now(UTC).isoformat(timespec="microseconds")
        digest = code_hash(spec.files)
        with self._lock:
            # The run is final now: its acceptance record (if the server made one) is replaced in the same
            # transaction, so a crash leaves either the pending run or the experiment, never both or neither.
            self._db.execute("DELETE FROM accepted_runs WHERE run_id = ?", (result.id,))
            self._db.execute(
                "INSERT INTO experiments (id, run_id, created_at, status, code_hash, reproduces, spec_json,"
                " environment_json, metrics_json, result_json, files_json) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    experiment_id,
                    result.id,
                    created_at,
                    result.status,
                    digest,
                    reproduces,
                    json.dumps(spec_data),
                    env.model_dump_json(),
                    metrics.model_dump_json(),
                    stored_result.model_dump_json(),
                    json.dumps(spec.files, sort_keys=True),
                ),
            )
            self._db.commit()
        experiment = Experiment(
            id=experiment_id,
            run_id=result.id,
            created_at=created_at,
            code_hash=digest,
            reproduces=reproduces,
            spec=spec_data,
            environment=env,
            metrics=metrics,
            result=stored_result,
            file_names=sorted(spec.files),
            files=dict(spec.files),
        )
        log_to_mlflow(experiment)
        return experiment

    # --- runs in flight: recorded when accepted, so that a server crash cannot lose them ---

    def accept(
        self,
        run_id: str,
        spec: RunSpec,
        *,
        owner: str,
        reproduces: str | None = None,
        backend: str | None = None,
    ) -> None:
        """Record a run the moment it is accepted (queued); ``record`` replaces it when the run finishes.

        ``owner`` names the server process that runs it (see ``recover_interrupted``).
        """
        now = time.time()
        spec_data = spec.model_dump(mode="json", exclude={"files"})
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO accepted_runs (run_id, owner, accepted_at, updated_at, status, reproduces,"
                " backend, spec_json, files_json) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    owner,
                    now,
                    now,
                    "queued",
                    reproduces,
                    backend,
                    json.dumps(spec_data),
                    json.dumps(spec.files, sort_keys=True),
                ),
            )
            self._db.commit()

    def mark_running(self, run_id: str) -> None:
        """The accepted run has started."""
        now = time.time()
        with self._lock:
            self._db.execute(
                "UPDATE accepted_runs SET status = 'running', started_at = ?, updated_at = ? WHERE run_id = ?",
                (now, now, run_id),
            )
            self._db.commit()

    def save_losses(self, run_id: str, losses: Sequence[float]) -> None:
        """The per-step losses streamed so far (what a crash would otherwise take with it)."""
        with self._lock:
            self._db.execute(
                "UPDATE accepted_runs SET losses_json = ?, updated_at = ? WHERE run_id = ?",
                (json.dumps(list(losses)), time.time(), run_id),
            )
            self._db.commit()

    def pending(self, run_id: str) -> RunResult | None:
        """A run that is accepted but not finished (queued or running, maybe in another process), if any."""
        with self._lock:
            row = self._db.execute("SELECT * FROM accepted_runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        losses = [float(v) for v in json.loads(row["losses_json"])]
        limits = json.loads(row["spec_json"]).get("limits", {})
        return RunResult(id=run_id, status=row["status"], steps=len(losses), losses=losses, limits=limits)

    def recover_interrupted(self, is_alive: Callable[[str], bool]) -> builtins.list[Experiment]:
        """Record every accepted run whose owner process is gone as a failed experiment.

        Such a run was queued or running in a server that crashed or was killed: it can never finish, so it
        becomes ``failed`` with ``RESTARTED_ERROR`` and keeps the losses it had streamed. Runs of live owners
        (another server process on this data dir) are left alone.
        """
        with self._lock:
            rows = self._db.execute("SELECT * FROM accepted_runs ORDER BY accepted_at").fetchall()
        recovered = []
        for row in rows:
            if is_alive(row["owner"]):
                continue
            files = json.loads(row["files_json"])
            spec = RunSpec.model_validate({**json.loads(row["spec_json"]), "files": files})
            losses = [float(v) for v in json.loads(row["losses_json"])]
            started = row["started_at"]
            error = (
                RESTARTED_ERROR if row["status"] == "running" else f"{RESTARTED_ERROR} (it was still queued)"
            )
            result = RunResult(
                id=row["run_id"],
                status="failed",
                error=error,
                steps=len(losses),
                losses=losses,
                duration_s=round(max(0.0, row["updated_at"] - started), 3) if started else 0.0,
                limits=spec.limits.model_dump(),
            )
            environment = capture_environment(result, backend=row["backend"])
            recovered.append(self.record(spec, result, environment=environment, reproduces=row["reproduces"]))
        return recovered

    def count(self) -> int:
        """How many experiments are recorded."""
        with self._lock:
            (total,) = self._db.execute("SELECT COUNT(*) FROM experiments").fetchone()
        return int(total)

    def count_by_status(self) -> dict[str, int]:
        """How many experiments are recorded per status (queued, running, succeeded, failed, ...)."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM experiments GROUP BY status").fetchall()
        return {str(status): int(count) for status, count in rows}

    def list(self, *, limit: int = 50, offset: int = 0) -> list[ExperimentSummary]:
        """Experiments, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, run_id, created_at, status, code_hash, reproduces, spec_json, metrics_json,"
                " files_json FROM experiments ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (max(0, limit), max(0, offset)),
            ).fetchall()
        summaries = []
        for row in rows:
            spec = json.loads(row["spec_json"])
            metrics = ExperimentMetrics.model_validate_json(row["metrics_json"])
            summaries.append(
                ExperimentSummary(
                    id=row["id"],
                    run_id=row["run_id"],
                    created_at=row["created_at"],
                    status=row["status"],
                    code_hash=row["code_hash"],
                    reproduces=row["reproduces"],
                    steps=int(spec.get("steps", 0)),
                    seed=int(spec.get("seed", 0)),
                    device=spec.get("device"),
                    final_loss=metrics.final_loss,
                    loss_decreased=metrics.loss_decreased,
                    duration_s=metrics.duration_s,
                    file_names=sorted(json.loads(row["files_json"])),
                )
            )
        return summaries

    def get(self, experiment_id: str, *, files: bool = True) -> Experiment:
        """One experiment in full; raises ExperimentNotFound."""
        with self._lock:
            row = self._db.execute("SELECT * FROM experiments WHERE id = ?", (experiment_id,)).fetchone()
        if row is None:
            raise ExperimentNotFound([experiment_id])
        return self._experiment(row, files=files)

    def get_by_run(self, run_id: str) -> Experiment | None:
        """The experiment recorded for a smoke run id, if any (lets finished runs outlive the server)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM experiments WHERE run_id = ? ORDER BY created_at DESC LIMIT 1", (run_id,)
            ).fetchone()
        return None if row is None else self._experiment(row, files=False)

    def compare(self, experiment_ids: Sequence[str]) -> Comparison:
        """Side-by-side metrics and loss curves; raises ExperimentNotFound naming every unknown id."""
        if not 2 <= len(experiment_ids) <= MAX_COMPARE:
            raise ValueError(f"compare needs 2 to {MAX_COMPARE} experiment ids, got {len(experiment_ids)}")
        found: dict[str, Experiment] = {}
        missing: builtins.list[str] = []
        for experiment_id in experiment_ids:
            try:
                found[experiment_id] = self.get(experiment_id, files=False)
            except ExperimentNotFound:
                missing.append(experiment_id)
        if missing:
            raise ExperimentNotFound(missing)
        experiments = [found[i] for i in experiment_ids]
        rows = [
            ComparisonRow(
                id=e.id,
                created_at=e.created_at,
                status=e.metrics.status,
                code_hash=e.code_hash,
                steps=int(e.spec.get("steps", 0)),
                seed=int(e.spec.get("seed", 0)),
                device=e.environment.device,
                first_loss=e.metrics.first_loss,
                final_loss=e.metrics.final_loss,
                min_loss=e.metrics.min_loss,
                loss_decreased=e.metrics.loss_decreased,
                samples_per_s=e.metrics.samples_per_s,
                peak_memory_mb=e.metrics.peak_memory_mb,
                duration_s=e.metrics.duration_s,
            )
            for e in experiments
        ]
        return Comparison(
            ids=list(experiment_ids),
            rows=rows,
            loss_curves={e.id: e.metrics.losses for e in experiments},
            same_code=len({e.code_hash for e in experiments}) == 1,
            differences=_differences(experiments),
        )

    def _experiment(self, row: sqlite3.Row, *, files: bool) -> Experiment:
        file_map: dict[str, str] = json.loads(row["files_json"])
        return Experiment(
            id=row["id"],
            run_id=row["run_id"],
            created_at=row["created_at"],
            code_hash=row["code_hash"],
            reproduces=row["reproduces"],
            spec=json.loads(row["spec_json"]),
            environment=ExperimentEnvironment.model_validate_json(row["environment_json"]),
            metrics=ExperimentMetrics.model_validate_json(row["metrics_json"]),
            result=RunResult.model_validate_json(row["result_json"]),
            file_names=sorted(file_map),
            files=file_map if files else None,
        )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _differences(experiments: list[Experiment]) -> dict[str, list[Any]]:
    """Spec fields (flattened, e.g. ``limits.timeout_s``) and code hash that are not the same in every run."""
    flats = [{**_flatten(e.spec), "code_hash": e.code_hash} for e in experiments]
    keys = sorted({k for flat in flats for k in flat})
    diffs = {}
    for key in keys:
        values = [flat.get(key) for flat in flats]
        if any(v != values[0] for v in values[1:]):
            diffs[key] = values
    return diffs


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# The per-run metrics both comparison renderings (text for the CLI, Markdown for the agent) show, in order.
COMPARED_METRICS = (
    "steps",
    "seed",
    "device",
    "first_loss",
    "final_loss",
    "min_loss",
    "loss_decreased",
    "samples_per_s",
    "peak_memory_mb",
    "duration_s",
)


def format_comparison_text(comparison: Comparison) -> str:
    """A plain-text table: one row per metric, one column per experiment."""
    fields = ["status", "created_at", "code_hash", *COMPARED_METRICS]
    header = ["metric", *comparison.ids]
    table = [header]
    for name in fields:
        cells = []
        for row in comparison.rows:
            value = getattr(row, name)
            if name == "code_hash":
                value = str(value)[:12]
            elif name == "created_at":
                value = str(value)[:19]
            cells.append(_fmt(value))
        table.append([name, *cells])
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("same code: " + ("yes" if comparison.same_code else "no"))
    for key, values in comparison.differences.items():
        if key != "code_hash":
            lines.append(f"differs: {key} = " + ", ".join(_fmt(v) for v in values))
    return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def render_experiment_list(summaries: Sequence[ExperimentSummary]) -> str:
    """A Markdown table of experiments for chat answers (newest first, as listed)."""
    if not summaries:
        return "No experiments recorded yet: run a smoke test first."
    lines = [
        _md_row(["id", "recorded (UTC)", "status", "steps", "final loss", "loss decreased"]),
        _md_row(["---"] * 6),
    ]
    for s in summaries:
        final = "-" if s.final_loss is None else f"{s.final_loss:.4f}"
        lines.append(
            _md_row(
                [
                    f"`{s.id}`",
                    s.created_at[:19].replace("T", " "),
                    s.status,
                    str(s.steps),
                    final,
                    _fmt(s.loss_decreased),
                ]
            )
        )
    return "\n".join(lines)


def render_comparison(comparison: Comparison) -> str:
    """A Markdown side-by-side table (one column per experiment) plus what differs between the runs."""
    fields = ["status", *COMPARED_METRICS]
    lines = [
        _md_row(["metric", *(f"`{i}`" for i in comparison.ids)]),
        _md_row(["---"] * (len(comparison.ids) + 1)),
    ]
    for name in fields:
        lines.append(_md_row([name, *(_fmt(getattr(row, name)) for row in comparison.rows)]))
    lines.append("")
    lines.append("Same code in every run." if comparison.same_code else "The runs trained different code.")
    for key, values in comparison.differences.items():
        if key != "code_hash":
            lines.append(f"- `{key}` differs: " + ", ".join(_fmt(v) for v in values))
    return "\n".join(lines)


# --- MLflow (optional) ---

_mlflow_warned = False


def log_to_mlflow(experiment: Experiment) -> bool:
    """Mirror one experiment to MLflow when ``MLFLOW_TRACKING_URI`` is set. Never fails the run.

    mlflow is an optional dependency (it is heavy); without it a single warning says how to get it.
    Returns True when the experiment was logged.
    """
    global _mlflow_warned
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        return False
    try:
        import mlflow  # type: ignore[import-not-found]
    except ImportError:
        if not _mlflow_warned:
            log.warning(
                "MLFLOW_TRACKING_URI is set but mlflow is not installed; runs are recorded only in SQLite."
                " Install it with `pip install mlflow` to mirror them to MLflow."
            )
            _mlflow_warned = True
        return False
    try:
        with mlflow.start_run(run_name=experiment.id):
            mlflow.set_tags(
                {
                    "mlagent.experiment_id": experiment.id,
                    "mlagent.run_id": experiment.run_id,
                    "mlagent.status": experiment.metrics.status,
                    "mlagent.code_hash": experiment.code_hash,
                }
            )
            mlflow.log_params(
                {k: v for k, v in _flatten(experiment.spec).items() if not isinstance(v, list | dict)}
            )
            for step, loss in enumerate(experiment.metrics.losses):
                mlflow.log_metric("loss", loss, step=step)
            for name in ("samples_per_s", "peak_memory_mb", "duration_s"):
                value = getattr(experiment.metrics, name)
                if value is not None:
                    mlflow.log_metric(name, float(value))
            mlflow.log_dict(experiment.environment.model_dump(), "environment.json")
            for path, text in (experiment.files or {}).items():
                mlflow.log_text(text, f"code/{path}")
        return True
    except Exception as exc:  # mlflow server down, bad URI, ...: the SQLite record is what counts
        log.warning("could not log experiment %s to MLflow: %s", experiment.id, exc)
        return False


# --- Reproduction ---

CPU_RTOL = 1e-4
CPU_ATOL = 1e-6
# GPU kernels are not bitwise deterministic by default (atomics in reductions): allow more.
CUDA_RTOL = 1e-2
CUDA_ATOL = 1e-4


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


def compare_curves(original: list[float], rerun: list[float], *, rtol: float, atol: float) -> CurveMatch:
    """Element-wise ``|a - b| <= atol + rtol * |a|`` over curves that must have the same length."""
    if len(original) != len(rerun):
        return CurveMatch(
            matches=False,
            steps_compared=min(len(original), len(rerun)),
            rtol=rtol,
            atol=atol,
            message=f"loss curves differ in length: {len(original)} vs {len(rerun)} steps",
        )
    if not original:
        return CurveMatch(matches=True, rtol=rtol, atol=atol, message="no losses recorded in either run")
    abs_diffs = [abs(a - b) for a, b in zip(original, rerun, strict=True)]
    rel_diffs = [
        d / abs(a) if a else (0.0 if d == 0 else float("inf"))
        for d, a in zip(abs_diffs, original, strict=True)
    ]
    worst = max(range(len(abs_diffs)), key=lambda i: abs_diffs[i] - (atol + rtol * abs(original[i])))
    ok = all(d <= atol + rtol * abs(a) for d, a in zip(abs_diffs, original, strict=True))
    message = (
        f"loss curves match over {len(original)} steps (max abs diff {max(abs_diffs):.3g})"
        if ok
        else f"loss curves differ: step {worst} original {original[worst]:.6g} vs re-run {rerun[worst]:.6g}"
    )
    return CurveMatch(
        matches=ok,
        max_abs_diff=max(abs_diffs),
        max_rel_diff=max(rel_diffs),
        steps_compared=len(original),
        rtol=rtol,
        atol=atol,
        message=message,
    )


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
    return store.record(spec, result, environment=environment, reproduces=reproduces)


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
