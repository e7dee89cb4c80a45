"""Practice entries: schema, cross references, and code snippets checked against the installed libraries."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from knowledge import load_knowledge
from knowledge.entries import PracticeBase, PracticeEntry, load_practices, parse_practices

BASE = load_practices()
ENTRIES = sorted(BASE.entries)


def test_enough_entries_in_every_area() -> None:
    areas = [entry.area for entry in BASE.entries.values()]
    assert len(areas) >= 60
    for area in ("training", "data", "evaluation", "export"):
        assert areas.count(area) >= 3, area
    assert len(BASE.scope) >= 5


def test_topics_the_issue_names_are_covered() -> None:
    for entry_id in (
        "ddp_multi_gpu",
        "sync_batchnorm",
        "ddp_batch_size_lr",
        "mixed_precision_bf16",
        "gradient_accumulation",
        "gradient_clipping",
        "checkpoint_monitor_mode",
        "early_stopping_warmup",
        "lr_scheduler_interval",
        "onecycle_lr",
        "lr_warmup_cosine",
        "lr_finetuning_resnet",
        "layerwise_lr",
        "freeze_backbone_unfreeze",
        "loggers_choice",
        "reproducibility",
        "profiling",
        "torch_compile",
        "onnx_export",
        "torchscript_export",
        "dataloader_workers",
        "data_splits",
        "data_leakage",
        "augmentation_classification",
        "augmentation_dense_tasks",
        "class_imbalance_sampler",
        "focal_loss",
        "normalization_mean_std",
        "metrics_classification",
        "thresholds_operating_point",
        "calibration",
        "metrics_detection_map",
        "metrics_segmentation_iou_dice",
    ):
        assert entry_id in BASE.entries, entry_id


def test_references_resolve() -> None:
    BASE.check_references(set(load_knowledge().tasks))
    broken = BASE.model_copy(
        update={
            "entries": {
                **BASE.entries,
                "ddp_multi_gpu": BASE.entries["ddp_multi_gpu"].model_copy(
                    update={"related": ["no_such_entry"]}
                ),
            }
        }
    )
    with pytest.raises(ValueError, match="no_such_entry"):
        broken.check_references(set(load_knowledge().tasks))


def test_schema_rejects_bad_entries() -> None:
    good = BASE.entries["focal_loss"].model_dump()
    with pytest.raises(ValidationError):
        PracticeEntry.model_validate({**good, "questions": ["only one"]})
    with pytest.raises(ValidationError):
        PracticeEntry.model_validate({**good, "typo_field": 1})
    with pytest.raises(ValidationError):
        PracticeEntry.model_validate({**good, "id": "Has Spaces"})
    record = {k: v for k, v in good.items() if k != "area"}
    text = yaml.safe_dump({"area": "training", "entries": [record]})
    with pytest.raises(ValueError, match="duplicate practice id"):
        parse_practices({"a.yaml": text, "b.yaml": text})
    assert isinstance(parse_practices({"a.yaml": text}), PracticeBase)


# --------------------------------------------------------------------------------------- snippet checking


def _namespace(tree: ast.Module, entry_id: str) -> dict[str, Any]:
    """Execute only the snippet's imports; an import of an installed package that fails is a wrong API."""
    namespace: dict[str, Any] = {}
    for node in tree.body:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        top = (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name) or ""
        if importlib.util.find_spec(top.split(".")[0]) is None:
            continue  # optional third-party package the entry mentions (imagehash, sklearn...)
        exec(compile(ast.Module(body=[node], type_ignores=[]), entry_id, "exec"), namespace)
    return namespace


def _resolve(func: ast.expr, namespace: dict[str, Any]) -> Any:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in namespace:
        return None
    obj = namespace[func.id]
    for part in reversed(parts):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def snippet_problems(code: str, label: str) -> tuple[int, list[str]]:
    """(calls checked, keyword arguments that the called API does not accept)."""
    tree = ast.parse(code)
    namespace = _namespace(tree, label)
    checked, problems = 0, []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = _resolve(node.func, namespace)
        if target is None or not callable(target):
            continue
        try:
            params = inspect.signature(target).parameters
        except (TypeError, ValueError):
            continue
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            continue
        checked += 1
        problems += [
            f"{ast.unparse(node.func)}() has no '{kw.arg}'"
            for kw in node.keywords
            if kw.arg is not None and kw.arg not in params
        ]
    return checked, problems


@pytest.mark.parametrize("entry_id", ENTRIES)
def test_snippet_parses_and_calls_real_apis_with_real_keywords(entry_id: str) -> None:
    entry = BASE.entries[entry_id]
    if not entry.code.strip():
        return
    checked, problems = snippet_problems(entry.code, entry_id)
    assert not problems, f"{entry_id}: {problems}"
    if any(name in entry.code for name in ("L.Trainer(", "ModelCheckpoint(", "EarlyStopping(")):
        assert checked, f"{entry_id}: no call could be checked"


def test_snippet_checker_catches_wrong_apis() -> None:
    checked, problems = snippet_problems(
        "import lightning as L\nfrom lightning.pytorch.callbacks import EarlyStopping\n"
        "L.Trainer(auto_lr_find=True)\nEarlyStopping(monitor='val/loss', warmup=5)\n",
        "probe",
    )
    assert checked == 2
    assert any("auto_lr_find" in p for p in problems) and any("warmup" in p for p in problems)
    with pytest.raises(ImportError):
        snippet_problems("from lightning.pytorch.callbacks import NoSuchCallback\n", "probe")


METRIC_NAME = re.compile(
    r"`((?:Multiclass|Multilabel|Binary)[A-Za-z]+|MeanIoU|DiceScore|MeanAveragePrecision)[`(]"
)


def test_torchmetrics_names_quoted_in_answers_exist() -> None:
    """Metric class names quoted in answers (MulticlassAccuracy, MeanIoU, ...) exist in torchmetrics 1.9."""
    modules = [
        importlib.import_module(name)
        for name in (
            "torchmetrics",
            "torchmetrics.classification",
            "torchmetrics.segmentation",
            "torchmetrics.detection",
        )
    ]
    quoted = 0
    for entry in BASE.entries.values():
        for name in set(METRIC_NAME.findall(entry.answer)):
            quoted += 1
            assert any(hasattr(module, name) for module in modules), f"{entry.id}: {name}"
    assert quoted >= 10
