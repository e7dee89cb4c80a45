"""The experiment store on real SQLite: record, list, get, compare, reproduction judgement."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.experiments import (
    RESTARTED_ERROR,
    ExperimentNotFound,
    ExperimentStore,
    code_hash,
    compare_curves,
    format_comparison_text,
    reproduction_report,
)
from sandbox.manager import owner_alive
from sandbox.spec import RunResult, RunSpec

FILES = {"model.py": "import torch\n", "conf/train.yaml": "lr: 0.1\n"}


def _result(run_id: str, losses: list[float], status: str = "succeeded") -> RunResult:
    return RunResult(
        id=run_id,
        status=status,  # type: ignore[arg-type]
        device="cpu",
        steps=len(losses),
        losses=losses,
        loss_decreased=losses[-1] < losses[0] if losses else None,
        samples_per_s=100.0,
        peak_memory_mb=300.0,
        duration_s=2.5,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ExperimentStore]:
    with ExperimentStore(tmp_path / "data" / "experiments.sqlite") as opened:
        yield opened


def test_code_hash_is_order_independent_and_unambiguous() -> None:
    assert code_hash({"a.py": "x", "b.py": "y"}) == code_hash({"b.py": "y", "a.py": "x"})
    assert code_hash({"a.py": "x"}) != code_hash({"a.py": "x "})
    # Path/text boundaries cannot be shifted to collide.
    assert code_hash({"ab": "c"}) != code_hash({"a": "bc"})


def test_record_then_get_round_trips_everything_needed_to_reproduce(store: ExperimentStore) -> None:
    spec = RunSpec(files=FILES, steps=3, seed=7)
    recorded = store.record(spec, _result("run-1", [1.0, 0.8, 0.5]))
    assert recorded.id.startswith("exp-")
    assert recorded.result.experiment_id == recorded.id

    loaded = store.get(recorded.id)
    assert loaded.files == FILES
    assert loaded.code_hash == code_hash(FILES)
    assert loaded.spec["seed"] == 7 and "files" not in loaded.spec
    assert loaded.metrics.losses == [1.0, 0.8, 0.5]
    assert loaded.metrics.final_loss == 0.5 and loaded.metrics.min_loss == 0.5
    assert loaded.environment.python and loaded.environment.torch
    assert loaded.result.experiment_id == recorded.id
    assert loaded.run_spec() == spec
    assert store.get(recorded.id, files=False).files is None
    assert store.get_by_run("run-1") is not None and store.get_by_run("run-x") is None


def test_list_is_newest_first_with_paging(store: ExperimentStore) -> None:
    ids = [
        store.record(RunSpec(files=FILES, steps=i + 1), _result(f"run-{i}", [1.0, 0.5])).id for i in range(5)
    ]
    listed = store.list(limit=3)
    assert [s.id for s in listed] == ids[::-1][:3]
    assert [s.id for s in store.list(limit=3, offset=3)] == ids[::-1][3:]
    assert store.count() == 5
    assert listed[0].file_names == sorted(FILES)


def test_compare_shows_metrics_curves_and_spec_differences(store: ExperimentStore) -> None:
    a = store.record(RunSpec(files=FILES, steps=2, seed=1), _result("run-a", [1.0, 0.5]))
    b = store.record(
        RunSpec(files={**FILES, "model.py": "x = 1\n"}, steps=3, seed=1), _result("run-b", [2, 1, 0.1])
    )
    comparison = store.compare([a.id, b.id])
    assert comparison.ids == [a.id, b.id]
    assert comparison.loss_curves == {a.id: [1.0, 0.5], b.id: [2.0, 1.0, 0.1]}
    assert not comparison.same_code
    assert comparison.differences["steps"] == [2, 3]
    assert "seed" not in comparison.differences
    assert [row.final_loss for row in comparison.rows] == [0.5, 0.1]
    text = format_comparison_text(comparison)
    assert a.id in text and "final_loss" in text and "differs: steps = 2, 3" in text


def test_compare_names_every_unknown_id(store: ExperimentStore) -> None:
    a = store.record(RunSpec(files=FILES), _result("run-a", [1.0]))
    with pytest.raises(ExperimentNotFound) as info:
        store.compare([a.id, "exp-nope", "exp-gone"])
    assert info.value.experiment_ids == ["exp-nope", "exp-gone"]
    with pytest.raises(ValueError):
        store.compare([a.id])


def test_store_is_safe_across_threads_and_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "experiments.sqlite"
    store = ExperimentStore(path)
    threads = [
        threading.Thread(target=lambda i=i: store.record(RunSpec(files=FILES), _result(f"r{i}", [1.0, 0.5])))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    with ExperimentStore(path) as reopened:
        assert reopened.count() == 8
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_curve_comparison_tolerance() -> None:
    assert compare_curves([1.0, 0.5], [1.0, 0.5], rtol=1e-4, atol=1e-6).matches
    close = compare_curves([1.0, 0.5], [1.00005, 0.5], rtol=1e-4, atol=1e-6)
    assert close.matches and close.max_abs_diff == pytest.approx(5e-5)
    far = compare_curves([1.0, 0.5], [1.0, 0.6], rtol=1e-4, atol=1e-6)
    assert not far.matches and "step 1" in far.message
    assert not compare_curves([1.0], [1.0, 0.5], rtol=1e-4, atol=1e-6).matches


def test_reproduction_report_requires_same_status_and_curve(store: ExperimentStore) -> None:
    original = store.record(RunSpec(files=FILES), _result("run-a", [1.0, 0.5]))
    same = reproduction_report(store.get(original.id), _result("run-b", [1.0, 0.5]))
    assert same.matches and same.curve.rtol == 1e-4
    failed = reproduction_report(store.get(original.id), _result("run-c", [1.0, 0.5], status="failed"))
    assert not failed.matches and "status differs" in failed.curve.message


def test_markdown_renderings_for_the_agent(store: ExperimentStore) -> None:
    from sandbox.experiments import render_comparison, render_experiment_list

    assert "No experiments" in render_experiment_list([])
    a = store.record(RunSpec(files=FILES, steps=2), _result("run-a", [1.0, 0.5]))
    b = store.record(RunSpec(files=FILES, steps=3), _result("run-b", [1.0, 0.7, 0.2]))
    listing = render_experiment_list(store.list())
    assert listing.splitlines()[2].startswith(f"| `{b.id}`") and "0.2000" in listing
    table = render_comparison(store.compare([a.id, b.id]))
    assert f"`{a.id}`" in table.splitlines()[0] and "| final_loss | 0.5 | 0.2 |" in table
    assert "Same code in every run." in table and "`steps` differs: 2, 3" in table


def test_mlflow_mirror_is_optional(
    store: ExperimentStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import importlib.util

    from sandbox import experiments
    from sandbox.experiments import mirror

    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setattr(mirror, "_mlflow_warned", False)
    recorded = store.record(RunSpec(files=FILES), _result("run-a", [1.0, 0.5]))
    if importlib.util.find_spec("mlflow") is None:
        assert not experiments.log_to_mlflow(recorded)
        assert "mlflow is not installed" in caplog.text
    else:  # a real MLflow run in a local file store, read back through MLflow's own client
        import mlflow

        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 wants a DB store unless told
        assert experiments.log_to_mlflow(recorded)
        [run] = mlflow.search_runs(search_all_experiments=True, output_format="list")
        assert run.data.tags["mlagent.experiment_id"] == recorded.id
        history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]
    assert store.get(recorded.id).metrics.losses == [1.0, 0.5]  # the SQLite record does not depend on it


def test_accepted_runs_are_recovered_as_failed_only_when_their_owner_is_gone(tmp_path: Path) -> None:
    spec = RunSpec(files=FILES, steps=7, seed=3)
    with ExperimentStore(tmp_path / "experiments.sqlite") as store:
        store.accept("run-done", spec, owner="1@0.00/dead")
        store.record(spec, _result("run-done", [1.0]))  # finished: the acceptance record goes with it
        store.accept("run-running", spec, owner="1@0.00/dead", backend="local")
        store.mark_running("run-running")
        store.save_losses("run-running", [2.0, 1.5])
        store.accept("run-queued", spec, owner="1@0.00/dead")
        store.accept("run-live", spec, owner="live")
        pending = store.pending("run-running")
        assert pending is not None and pending.status == "running" and pending.losses == [2.0, 1.5]

        recovered = store.recover_interrupted(lambda owner: owner == "live")
        by_run = {e.run_id: e for e in recovered}
        assert sorted(by_run) == ["run-queued", "run-running"]
        running = by_run["run-running"].result
        assert running.status == "failed" and running.error == RESTARTED_ERROR
        assert running.losses == [2.0, 1.5] and running.steps == 2
        assert by_run["run-queued"].result.error == f"{RESTARTED_ERROR} (it was still queued)"
        assert store.get(by_run["run-running"].id).run_spec() == spec  # the files are kept: re-runnable
        assert store.pending("run-running") is None and store.pending("run-live") is not None
        assert store.recover_interrupted(lambda owner: owner == "live") == []  # nothing twice
        assert store.count() == 3
    # pid 1 exists but did not start at the epoch; a malformed owner is no live process either.
    assert not owner_alive("1@0.00/x") and not owner_alive("garbage")
