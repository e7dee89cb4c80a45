"""The architecture registry: names people use resolve, wrong ones get the valid list, every row generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tools.codegen import GenerateSpec, generate, write_project
from tools.codegen.architectures import architectures, find_architecture, listing, task_architectures

RUFF = Path(sys.executable).with_name("ruff")
REPRESENTATIVES = [row for row in architectures() if row.task != "classification" or row.name == "resnet"]


def representative_fields(row_key: str) -> dict[str, object]:
    """One backbone per architecture: resnet18 where any dense backbone goes, else the row's own."""
    row = next(r for r in architectures() if r.key == row_key)
    fields: dict[str, object] = {"task": row.task, "architecture": row.name, "num_classes": 3}
    if row.backbone_set == "dense":
        fields["backbone"] = "resnet18"
    return fields


@pytest.mark.parametrize(
    ("fields", "architecture", "backbone"),
    [
        ({"task": "detection", "backbone": "retinanet_resnet50_fpn"}, "retinanet", "resnet50"),
        (
            {"task": "detection", "backbone": "fasterrcnn_mobilenet_v3_large_fpn"},
            "faster-rcnn-mobilenet",
            None,
        ),
        ({"task": "semantic_segmentation", "backbone": "deeplabv3_mobilenet_v3_large"}, "deeplabv3", None),
        ({"task": "segmentation", "backbone": "unet"}, "unet", None),
        ({"task": "detection", "architecture": "FCOS", "backbone": "mobilenet_v3_small"}, "fcos", None),
        ({"task": "detection", "architecture": "ssdlite320_mobilenet_v3_large"}, "ssdlite", None),
        ({"task": "detection", "backbone": "resnet18"}, "faster-rcnn", "resnet18"),  # today's default
        ({"task": "segmentation", "backbone": "resnet18"}, "deeplabv3plus", "resnet18"),
        ({"task": "classification", "backbone": "convnext_tiny"}, "convnext", "convnext_tiny"),
        ({"task": "classification", "architecture": "efficientnet_v2"}, "efficientnet", "efficientnet_b0"),
    ],
)
def test_names_people_use_resolve(fields: dict[str, object], architecture: str, backbone: str | None) -> None:
    spec = GenerateSpec.model_validate({**fields, "num_classes": 4})
    assert spec.architecture == architecture
    if backbone is not None:
        assert spec.backbone == backbone
    assert spec.backbone in (spec.arch.backbone_choices())


@pytest.mark.parametrize(
    ("fields", "loc", "texts"),
    [
        (
            {"task": "detection", "architecture": "retinanett"},
            "architecture",
            ["did you mean 'retinanet'", "fcos"],
        ),
        ({"task": "segmentation", "architecture": "yolo"}, "architecture", ["valid:", "unet", "lraspp"]),
        (
            {"task": "segmentation", "architecture": "unet", "backbone": "resnet18"},
            "backbone",
            ["own encoder"],
        ),
        ({"task": "segmentation", "architecture": "fcn", "backbone": "resnet18"}, "backbone", ["resnet50"]),
        ({"task": "detection", "architecture": "ssdlite", "image_size": 256}, "", ["exactly 320"]),
        ({"task": "segmentation", "architecture": "unet", "image_size": 100}, "", ["multiple of 16"]),
        ({"task": "detection", "backbone": "resnet18", "coco_pretrained": True}, "", ["resnet50"]),
    ],
)
def test_wrong_choices_name_the_valid_ones(fields: dict[str, object], loc: str, texts: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        GenerateSpec.model_validate({**fields, "num_classes": 3})
    error = info.value.errors()[0]
    assert ".".join(str(p) for p in error["loc"]) == loc
    for text in texts:
        assert text in error["msg"]


def test_registry_rows_are_consistent() -> None:
    for row in architectures():
        assert find_architecture(row.task, row.name) is row
        for alias in row.aliases:
            assert find_architecture(row.task, alias) is row, alias
        assert row.default_backbone in (row.backbone_choices()), row.key
        for backbone, _builder in row.builders:
            assert backbone in row.backbones(), row.key
        assert row.recipe is not None
    assert {r.name for r in task_architectures("detection")} >= {
        "faster-rcnn",
        "retinanet",
        "fcos",
        "ssdlite",
    }
    assert {r.name for r in task_architectures("segmentation")} >= {"deeplabv3", "fcn", "lraspp", "unet"}
    keys = [r.key for r in architectures()]
    assert len(keys) == len(set(keys))


def test_list_shows_task_architecture_backbone_and_needs() -> None:
    rows = listing()
    assert {"task", "architecture", "backbone", "image_size", "weights", "licence"} <= set(rows[0])
    ssd = next(r for r in rows if r["architecture"] == "ssdlite")
    assert ssd["image_size"] == "exactly 320px" and "coco" in ssd["weights"]
    unet = next(r for r in rows if r["architecture"] == "unet")
    assert unet["backbone"] == "(own encoder)" and "x16" in unet["image_size"]
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli", "generate", "--list", "--task", "object_detection"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "retinanet-v2" in proc.stdout and "classification" not in proc.stdout.split("aliases")[0]


def test_cli_refuses_unknown_architecture_with_exit_2(tmp_path: Path) -> None:
    args = ["generate", "--task", "detection", "--architecture", "yolov8", "--num-classes", "3"]
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli", *args, "--out", str(tmp_path / "p")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "faster-rcnn" in proc.stderr and "Traceback" not in proc.stderr


def test_detectors_count_background_and_follow_the_recipe() -> None:
    for row in task_architectures("detection"):
        files = generate(
            GenerateSpec.model_validate({**representative_fields(row.key), "review": False})
        ).files
        model = files["model.py"]
        assert "num_classes=config.num_classes + 1" in model, row.key
        assert "torch.optim.SGD" in model and "momentum=self.config.momentum" in model, row.key
        assert "freeze_batchnorm" in model, row.key
    builder = generate(GenerateSpec(task="detection", architecture="retinanet", num_classes=2, review=False))
    assert '"retinanet_resnet50_fpn"' in builder.files["model.py"]
    assert (
        "coco_pretrained: bool" in builder.files["config.py"]
        and "default=False" in builder.files["config.py"]
    )


@pytest.mark.parametrize("key", [row.key for row in REPRESENTATIVES])
def test_every_architecture_generates_clean_reviewed_code(tmp_path: Path, key: str) -> None:
    result = generate(GenerateSpec.model_validate(representative_fields(key)))
    assert result.review is not None
    failed = {i["id"]: i["evidence"] for i in result.review["checklist"] if i["status"] == "fail"}
    assert not failed, failed
    write_project(result.files, tmp_path)
    for path in tmp_path.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")
    check = subprocess.run([str(RUFF), "check", "--no-cache", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [str(RUFF), "format", "--check", "--no-cache", str(tmp_path)], capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_knowledge_and_registry_agree_on_what_can_be_generated() -> None:
    from knowledge import load_knowledge
    from tools.codegen.architectures import CLOSEST_GENERATABLE, KNOWLEDGE_ARCHITECTURES

    for task_id in ("classification", "detection", "segmentation"):
        for arch in load_knowledge().tasks[task_id].architectures:
            mapped = (task_id, arch.id) in KNOWLEDGE_ARCHITECTURES
            assert arch.generate_supported == mapped, (task_id, arch.id)
            if not mapped:
                assert (task_id, arch.id) in CLOSEST_GENERATABLE, (task_id, arch.id)


@pytest.mark.parametrize(
    "question",
    [
        "real-time detection of 5 defect types on a jetson, commercial product",
        "segment roads in 1024px aerial images, 6 classes, GPU server",
        "classify 12 plant diseases from phone photos, 3000 images",
    ],
)
def test_every_recommendation_says_whether_it_can_be_generated(question: str) -> None:
    import shlex

    from tools.recommend import RecommendRequest, recommend

    result = recommend(RecommendRequest(question=question, top_k=5))
    assert result.recommendations
    for rec in result.recommendations:
        if not rec.generatable:
            assert rec.generate_command is None and rec.closest_generatable
            assert find_architecture(result.task or "", rec.closest_generatable.split(":")[0]) is not None
            continue
        args = shlex.split(rec.generate_command or "")
        flags = dict(zip(args[2::2], args[3::2], strict=False))
        spec = GenerateSpec(
            task=flags["--task"],
            architecture=flags["--architecture"],
            backbone=flags.get("--backbone"),
            num_classes=int(flags["--num-classes"].replace("N", "3")),
            image_size=int(flags["--image-size"]),
            review=False,
        )
        assert spec.architecture == rec.generate_architecture
