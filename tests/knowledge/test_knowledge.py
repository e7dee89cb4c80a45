"""The knowledge base must describe things that exist in the installed torchvision/torchmetrics."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import torch
import torchvision
import torchvision.transforms.v2 as T
from pydantic import ValidationError
from torchvision import tv_tensors
from torchvision.models.feature_extraction import create_feature_extractor

from knowledge import load_knowledge
from knowledge.models import KnowledgeBase, OptimizerRange

KB = load_knowledge()
TASK_IDS = KB.task_names()


def test_core_tasks_are_covered() -> None:
    for task in (
        "classification",
        "segmentation",
        "detection",
        "instance_segmentation",
        "keypoints",
        "regression",
    ):
        assert task in KB.tasks
        assert KB.task(task) is KB.tasks[task]
    assert KB.task("Object Detection") is KB.tasks["detection"]
    assert KB.task("semantic-segmentation") is KB.tasks["segmentation"]
    assert KB.task("speech recognition") is None


def test_wider_tasks_are_covered_and_marked_knowledge_only() -> None:
    """Issue 7: tasks users ask for exist as knowledge, and say whether the generator can write them."""
    for task in (
        "anomaly_detection",
        "medical_3d_segmentation",
        "ocr",
        "change_detection",
        "tiny_object_detection",
        "video",
    ):
        knowledge = KB.tasks[task]
        assert knowledge.pitfalls and knowledge.questions, task
        assert not knowledge.generate_supported, f"{task}: the code generator has no template for it"
        assert all(arch.license for arch in knowledge.architectures)
    assert KB.task("OCR") is KB.tasks["ocr"]
    assert KB.task("multilabel") is KB.tasks["multi_label"]
    assert KB.tasks["classification"].generate_supported


def test_knowledge_says_generatable_exactly_where_the_generator_writes_it() -> None:
    """The recommender reads generate_supported; the generator's registry decides. They must agree."""
    from tools.codegen.architectures import KNOWLEDGE_ARCHITECTURES, find_architecture
    from tools.codegen.spec import SUPPORTED_TASKS

    for task in KB.tasks.values():
        assert task.generate_supported == (task.id in SUPPORTED_TASKS), task.id
        for arch in task.architectures:
            mapped = KNOWLEDGE_ARCHITECTURES.get((task.id, arch.id))
            assert arch.generate_supported == (mapped is not None), (task.id, arch.id)
            assert mapped is None or find_architecture(task.id, mapped) is not None, (task.id, arch.id)


@pytest.mark.parametrize("name", sorted(KB.backbones))
def test_backbone_exists_and_figures_match_torchvision(name: str) -> None:
    backbone = KB.backbones[name]
    assert name in torchvision.models.list_models(module=torchvision.models)
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    assert backbone.params_m == pytest.approx(meta["num_params"] / 1e6, rel=0.02)
    assert backbone.gflops == pytest.approx(meta["_ops"], rel=0.02)
    assert backbone.imagenet_top1 == pytest.approx(meta["_metrics"]["ImageNet-1K"]["acc@1"], abs=0.1)


@pytest.mark.parametrize("name", sorted(n for n, b in KB.backbones.items() if b.dense_features))
def test_dense_feature_nodes_have_the_documented_shapes(name: str) -> None:
    backbone = KB.backbones[name]
    model = torchvision.models.get_model(name, weights=None).eval()
    head_path = backbone.classifier_head.split(".")
    head: Any = model
    for part in head_path:
        head = head[int(part)] if part.isdigit() else getattr(head, part)
    assert isinstance(head, torch.nn.Linear) and head.in_features == backbone.classifier_in_features
    extractor = create_feature_extractor(model, {f.node: f.node for f in backbone.dense_features})
    size = 64
    with torch.no_grad():
        outputs = extractor(torch.randn(1, 3, size, size))
    for level in backbone.dense_features:
        out = outputs[level.node]
        assert out.shape[1] == level.channels, level
        assert out.shape[-1] == size // level.stride, level


def _python_args(args: dict[str, Any]) -> dict[str, Any]:
    """Turn the YAML spelling of per-type fill dicts ('tv_tensors.Mask') into real types."""
    resolved = {}
    for key, value in args.items():
        if isinstance(value, dict):
            value = {
                getattr(tv_tensors, k.split(".", 1)[1]) if k.startswith("tv_tensors.") else k: v
                for k, v in value.items()
            }
        resolved[key] = value
    return resolved


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_augmentations_are_real_v2_transforms(task_id: str) -> None:
    for aug in KB.tasks[task_id].augmentations:
        cls = getattr(T, aug.transform)
        transform = cls(**_python_args(aug.args))
        assert isinstance(transform, T.Transform)


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_metrics_exist_in_torchmetrics_with_those_arguments(task_id: str) -> None:
    for metric in KB.tasks[task_id].metrics:
        module_name, cls_name = metric.cls.rsplit(".", 1)
        cls = getattr(importlib.import_module(module_name), cls_name)
        args = {k: 3 if v == "{num_classes}" else v for k, v in metric.args.items()}
        cls(**args)


def test_every_architecture_has_a_cost_model() -> None:
    for task in KB.tasks.values():
        for arch in task.architectures:
            assert arch.gflops or arch.backbones or arch.variants, arch.id
            # What generation needs (a registry row with its backbones) is checked by
            # test_knowledge_says_generatable_exactly_where_the_generator_writes_it.


def test_schema_rejects_bad_data() -> None:
    with pytest.raises(ValidationError):
        OptimizerRange(optimizer="AdamW", lr_finetune=(1e-3, 1e-4), lr_scratch=(1e-3, 1e-2), weight_decay=0.0)
    data = KB.model_dump()
    data["tasks"]["classification"]["architectures"][0]["backbones"] = ["resnet9000"]
    with pytest.raises(ValidationError, match="unknown backbones"):
        KnowledgeBase.model_validate(data)
    data = KB.model_dump()
    data["tasks"]["classification"]["architectures"][0]["speed"] = 7
    with pytest.raises(ValidationError):
        KnowledgeBase.model_validate(data)
    data = KB.model_dump()
    data["backbones"]["resnet18"]["typo_field"] = 1
    with pytest.raises(ValidationError):
        KnowledgeBase.model_validate(data)
