"""The SQLite experiment store: every finished run (and every accepted one, until it finishes), thread-safe."""

from __future__ import annotations

import builtins
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sandbox.experiments.compare import differences
from sandbox.experiments.mirror import log_to_mlflow
from sandbox.experiments.models import (
    MAX_COMPARE,
    RESTARTED_ERROR,
    Comparison,
    ComparisonRow,
    Experiment,
    ExperimentEnvironment,
    ExperimentMetrics,
    ExperimentNotFound,
    ExperimentSummary,
    Lineage,
    capture_environment,
    code_hash,
    metrics_of,
    new_experiment_id,
)
from sandbox.spec import RunResult, RunSpec

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

# Run-tree columns (the repair loop): added to databases created before them by ``_migrate``.
_LINEAGE_COLUMNS = (("parent_id", "TEXT"), ("diff", "TEXT"), ("diagnosis_json", "TEXT"))


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
            self._migrate()
            self._db.commit()

    def _migrate(self) -> None:
        """Add the run-tree columns to an experiments table created before them (SQLite ADD COLUMN is cheap)."""
        present = {row["name"] for row in self._db.execute("PRAGMA table_info(experiments)")}
        for name, sql_type in _LINEAGE_COLUMNS:
            if name not in present:
                self._db.execute(f"ALTER TABLE experiments ADD COLUMN {name} {sql_type}")
        self._db.execute("CREATE INDEX IF NOT EXISTS experiments_parent ON experiments (parent_id)")

    def children(self, experiment_id: str) -> builtins.list[Experiment]:
        """The experiments recorded as attempts made from ``experiment_id`` (the run tree's next level)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM experiments WHERE parent_id = ? ORDER BY created_at, id", (experiment_id,)
            ).fetchall()
        return [self._experiment(row, files=False) for row in rows]

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
        lineage: Lineage | None = None,
    ) -> Experiment:
        """Store one finished run; returns the experiment (its id is also set on the stored result).

        ``lineage`` links a repair attempt to the run it was made from (parent, diff, diagnosis).
        """
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
                " environment_json, metrics_json, result_json, files_json, parent_id, diff, diagnosis_json)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    lineage.parent_id if lineage else None,
                    lineage.diff if lineage else None,
                    json.dumps(lineage.diagnosis) if lineage and lineage.diagnosis is not None else None,
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
            parent_id=lineage.parent_id if lineage else None,
            diff=lineage.diff if lineage else None,
            diagnosis=lineage.diagnosis if lineage else None,
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
            differences=differences(experiments),
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
            parent_id=row["parent_id"],
            diff=row["diff"],
            diagnosis=json.loads(row["diagnosis_json"]) if row["diagnosis_json"] else None,
        )
