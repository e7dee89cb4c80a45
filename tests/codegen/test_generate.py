"""Code generation: spec validation, lint-clean output, the review verdict, and REAL tiny training runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.codegen.conftest import run_selected_in_pool
from tools.codegen import GenerateSpec, allowed_backbones, generate, write_project

RUFF = Path(sys.executable).with_name("ruff")
EXPECTED_FILES = {
    "config.py",
    "model.py",
    "data.py",
    "train.py",
    "export.py",
    "tests/test_smoke.py",
    "README.md",
    "config.yaml",
    "pyproject.toml",
    "requirements.txt",
}


def _write(tmp_path: Path, **fields: object) -> tuple[Path, dict[str, object] | None]:
    result = generate(GenerateSpec.model_validate(fields))
    out = tmp_path / "project"
    write_project(result.files, out)
    return out, result.review


def test_spec_defaults_are_safe_and_task_aliases_resolve() -> None:
    spec = GenerateSpec(task="semantic_segmentation", backbone="ResNet18", num_classes=4)
    assert spec.task == "segmentation" and spec.backbone == "resnet18"
    assert spec.pretrained is False and spec.package == "lightning"
    assert spec.effective_image_size == 512 and spec.effective_project_name == "segmentation-resnet18"
    assert GenerateSpec(task="classification", backbone="vit_b_16", num_classes=2).effective_image_size == 224


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"task": "pose", "backbone": "resnet18", "num_classes": 2}, "task", "classification"),
        ({"task": "detection", "backbone": "vit_b_16", "num_classes": 2}, "backbone", "resnet18"),
        ({"task": "classification", "backbone": "resnet9000", "num_classes": 2}, "backbone", "allowed"),
        ({"task": "classification", "backbone": "resnet18", "num_classes": 0}, "num_classes", "greater"),
        ({"task": "classification", "backbone": "vit_b_16", "num_classes": 2, "image_size": 64}, "", "224"),
        (
            {"task": "segmentation", "backbone": "resnet18", "num_classes": 2, "image_size": 100},
            "",
            "multiple of 32",
        ),
        (
            {"task": "classification", "backbone": "resnet18", "num_classes": 2, "package": "keras"},
            "package",
            "lightning",
        ),
        (
            {"task": "classification", "backbone": "resnet18", "num_classes": 2, "project_name": "Bad Name"},
            "project_name",
            "",
        ),
        ({"task": "classification", "backbone": "resnet18", "num_classes": 2, "typo": 1}, "typo", ""),
    ],
)
def test_bad_specs_name_the_field_and_allowed_values(
    fields: dict[str, object], field: str, text: str
) -> None:
    with pytest.raises(ValidationError) as info:
        GenerateSpec.model_validate(fields)
    error = info.value.errors()[0]
    assert ".".join(str(p) for p in error["loc"]).startswith(field)
    assert text in str(info.value)


def test_dense_tasks_only_offer_backbones_with_feature_maps() -> None:
    assert "vit_b_16" in allowed_backbones("classification")
    assert "vit_b_16" not in allowed_backbones("detection")
    assert "mobilenet_v3_small" in allowed_backbones("segmentation")


@pytest.mark.parametrize("task", ["classification", "segmentation", "detection"])
@pytest.mark.parametrize("package", ["lightning", "pytorch_lightning"])
def test_generated_files_are_ruff_clean_and_use_the_chosen_package(
    tmp_path: Path, task: str, package: str
) -> None:
    out, _ = _write(tmp_path, task=task, backbone="resnet18", num_classes=3, package=package, review=False)
    assert {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} == EXPECTED_FILES
    other = "pytorch_lightning" if package == "lightning" else "lightning.pytorch"
    for path in out.rglob("*.py"):
        assert other not in path.read_text(), path
    check = subprocess.run([str(RUFF), "check", "--no-cache", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run(
        [str(RUFF), "format", "--check", "--no-cache", str(out)], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_generation_is_deterministic() -> None:
    spec = GenerateSpec(task="detection", backbone="mobilenet_v3_large", num_classes=5, review=False)
    assert generate(spec).files == generate(spec).files
    files = generate(spec).files
    assert "num_classes=config.num_classes + 1" in files["model.py"]
    assert "default=5" in files["config.py"] and "min_size=config.image_size" in files["model.py"]


@pytest.mark.parametrize("task", ["classification", "segmentation", "detection"])
def test_review_of_generated_code_has_no_failures(task: str) -> None:
    result = generate(GenerateSpec(task=task, backbone="resnet18", num_classes=3))
    assert result.review is not None, result.notes
    checklist = result.review["checklist"]
    assert len(checklist) == 14
    failed = {item["id"]: item["evidence"] for item in checklist if item["status"] == "fail"}
    assert not failed
    errors = [f for f in result.review["findings"] if f["severity"] == "error"]
    assert not errors


def _run_generated_tests(project: Path, timeout: int = 280) -> subprocess.CompletedProcess[str]:
    """The generated project's own smoke tests: a real 3-step CPU training on synthetic data (our own code)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests/test_smoke.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _trains(tmp_path: Path, task: str, backbone: str, package: str) -> Callable[[], None]:
    """Write the project here (in-process); return the child-process part (its own smoke tests)."""
    out, _ = _write(
        tmp_path, task=task, backbone=backbone, num_classes=3, package=package, image_size=64, review=False
    )

    def run() -> None:
        proc = _run_generated_tests(out)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert "5 passed" in proc.stdout

    return run


@pytest.fixture(scope="module")
def training_cases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[None]]]:
    """The selected really-trains cases, two at a time (see tests/codegen/conftest.py)."""
    yield from run_selected_in_pool(
        request,
        tmp_path_factory,
        "test_generated_project_really_trains",
        lambda tmp, params: _trains(tmp, params["task"], params["backbone"], params["package"]),
    )


@pytest.mark.slow
@pytest.mark.timeout(900)  # waits for its case in the two-worker pool
@pytest.mark.parametrize(
    ("task", "backbone", "package"),
    [
        ("classification", "mobilenet_v3_small", "pytorch_lightning"),
        ("segmentation", "mobilenet_v3_small", "lightning"),
        ("detection", "resnet18", "lightning"),
    ],
)
def test_generated_project_really_trains(
    request: pytest.FixtureRequest,
    training_cases: dict[str, Future[None]],
    task: str,
    backbone: str,
    package: str,
) -> None:
    training_cases[request.node.callspec.id].result()
