"""Run-tree fields in the experiment store, and the migration of a database created before them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sandbox.experiments import ExperimentStore, Lineage
from sandbox.spec import RunResult, RunSpec

OLD_SCHEMA = """
CREATE TABLE experiments (
    id TEXT PRIMARY KEY, run_id TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL,
    code_hash TEXT NOT NULL, reproduces TEXT, spec_json TEXT NOT NULL, environment_json TEXT NOT NULL,
    metrics_json TEXT NOT NULL, result_json TEXT NOT NULL, files_json TEXT NOT NULL
);
"""


def test_old_database_is_migrated_and_attempts_link_to_parents(tmp_path: Path) -> None:
    db = tmp_path / "experiments.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.execute(
            "INSERT INTO experiments VALUES ('exp-old', 'run-1', '2026-01-01T00:00:00', 'failed', 'h', NULL,"
            ' \'{"steps": 5, "seed": 1}\', \'{"python": "3.11", "platform": "x"}\','
            ' \'{"status": "failed"}\', \'{"id": "run-1", "status": "failed"}\', \'{"m.py": "x"}\')'
        )
    spec = RunSpec(files={"m.py": "y = 2\n"}, steps=5)
    with ExperimentStore(db) as store:
        old = store.get("exp-old")
        assert old.parent_id is None and old.diff is None and old.diagnosis is None
        child = store.record(
            spec,
            RunResult(id="run-2", status="succeeded"),
            lineage=Lineage(
                parent_id="exp-old", diff="--- a/m.py\n+++ b/m.py\n", diagnosis={"kind": "unknown"}
            ),
        )
        again = store.get(child.id)
        assert (again.parent_id, again.diagnosis) == ("exp-old", {"kind": "unknown"})
        assert again.diff is not None and again.diff.startswith("--- a/m.py")
        assert [e.id for e in store.children("exp-old")] == [child.id]
