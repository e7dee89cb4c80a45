"""Real tiny Lightning smoke runs on CPU through the sandbox (both Lightning packages, synthetic data,
configs, and the failures a user must understand: their own exception, NaN loss, a missing package)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.local import LocalSandbox
from sandbox.spec import RunLimits, RunSpec, SyntheticDataSpec

from .conftest import project_files

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leftovers")]

LIMITS = RunLimits(timeout_s=90, memory_mb=3072)


def smoke(sandbox: LocalSandbox, project: str, run_id: str, **spec: Any) -> tuple[Any, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    run_spec = RunSpec(files=project_files(project), device="cpu", limits=LIMITS, **spec)
    return sandbox.run(run_spec, run_id=run_id, on_event=events.append), events


@pytest.mark.parametrize("project", ["good_lightning", "good_pl"])
def test_module_and_datamodule_train(sandbox: LocalSandbox, project: str) -> None:
    result, events = smoke(sandbox, project, f"good-{project}", steps=20)
    assert result.status == "succeeded", (result.error, result.stdout_tail)
    assert result.device == "cpu"
    assert result.steps == 20 and len(result.losses) == 20
    assert result.loss_decreased is True
    assert result.samples_per_s and result.samples_per_s > 0
    assert result.peak_memory_mb and result.peak_memory_mb > 50
    assert result.time_to_first_step_s and 0 < result.time_to_first_step_s < result.duration_s
    assert events[0] == {"type": "status", "status": "running"}
    steps = [e for e in events if e["type"] == "step"]
    assert [e["step"] for e in steps] == list(range(1, 21))
    assert steps[0]["loss"] == pytest.approx(result.losses[0], rel=1e-4)


def test_dataloader_workers_run_in_the_sandbox(sandbox: LocalSandbox) -> None:
    result, _ = smoke(sandbox, "workers_lightning", "workers", steps=10)
    assert result.status == "succeeded", (result.error, result.stdout_tail)
    assert result.steps == 10 and result.loss_decreased is True


def test_module_only_gets_synthetic_data_from_example_input(sandbox: LocalSandbox) -> None:
    result, _ = smoke(sandbox, "module_only", "module-only", steps=12)
    assert result.status == "succeeded", (result.error, result.stdout_tail)
    assert result.steps == 12
    assert result.loss_decreased is True  # a small repeating synthetic set is learnable


def test_pydantic_config_and_synthetic_segmentation(sandbox: LocalSandbox) -> None:
    synthetic = SyntheticDataSpec(task="segmentation", input_shape=[3, 16, 16], num_classes=3, batch_size=2)
    result, _ = smoke(sandbox, "config_module", "config-seg", steps=6, synthetic=synthetic)
    assert result.status == "succeeded", (result.error, result.stdout_tail)
    assert result.steps == 6


def test_synthetic_detection_batches(sandbox: LocalSandbox) -> None:
    synthetic = SyntheticDataSpec(task="detection", input_shape=[3, 32, 32], num_classes=5, batch_size=2)
    result, _ = smoke(sandbox, "detection_module", "detection", steps=5, synthetic=synthetic)
    assert result.status == "succeeded", (result.error, result.stdout_tail)
    assert result.steps == 5


def test_exception_in_training_step_reports_user_frames(sandbox: LocalSandbox) -> None:
    result, _ = smoke(sandbox, "failing_step", "failing", steps=5)
    assert result.status == "failed"
    error = result.error or ""
    assert error.startswith("ValueError: unexpected logits shape (4, 2)")
    assert 'File "model.py", line 21, in training_step' in error
    assert 'File "model.py", line 7, in check_shapes' in error
    assert "site-packages" not in error  # only the submitted files' frames


def test_nan_loss_fails_clearly(sandbox: LocalSandbox) -> None:
    result, _ = smoke(sandbox, "nan_loss", "nan", steps=10)
    assert result.status == "failed"
    assert "the loss became nan at step 3" in (result.error or "")
    assert len(result.losses) == 2


def test_missing_package_is_named(sandbox: LocalSandbox) -> None:
    result, _ = smoke(sandbox, "missing_package", "missing", steps=3)
    assert result.status == "failed"
    assert "package 'timm_but_not_installed_anywhere' is not installed in the sandbox" in (result.error or "")


def test_ambiguous_modules_need_a_name(sandbox: LocalSandbox) -> None:
    files = project_files("good_lightning") | {
        "other.py": "import lightning.pytorch as pl\n\n\nclass Other(pl.LightningModule):\n    pass\n"
    }
    spec = RunSpec(files=files, device="cpu", steps=3, limits=LIMITS)
    result = sandbox.run(spec, run_id="ambiguous")
    assert result.status == "failed"
    assert "several LightningModule classes (Other, TinyClassifier)" in (result.error or "")
    named = sandbox.run(spec.model_copy(update={"module_class": "TinyClassifier"}), run_id="named")
    assert named.status == "succeeded", named.error
