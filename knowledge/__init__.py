"""Task knowledge for the recommender and the code generator, kept as YAML data and validated on load.

``load_knowledge()`` reads ``backbones.yaml`` (backbones + device latency profiles) and every ``task_*.yaml``
in this package, validates them with the Pydantic models in :mod:`knowledge.models` and caches the result.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from knowledge.models import (
    Architecture,
    Augmentation,
    Backbone,
    DeviceProfile,
    FeatureLevel,
    Hyperparameters,
    KnowledgeBase,
    LossOption,
    MetricOption,
    OptimizerRange,
    TaskKnowledge,
    Variant,
)

__all__ = [
    "Architecture",
    "Augmentation",
    "Backbone",
    "DeviceProfile",
    "FeatureLevel",
    "Hyperparameters",
    "KnowledgeBase",
    "LossOption",
    "MetricOption",
    "OptimizerRange",
    "TaskKnowledge",
    "Variant",
    "load_knowledge",
]

# Order in which tasks are listed to users (most common first).
_TASK_ORDER = (
    "classification",
    "multi_label",
    "detection",
    "tiny_object_detection",
    "segmentation",
    "instance_segmentation",
    "keypoints",
    "regression",
    "anomaly_detection",
    "medical_3d_segmentation",
    "ocr",
    "change_detection",
    "video",
)


def _read_yaml(name: str) -> Any:
    text = resources.files("knowledge").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def load_knowledge() -> KnowledgeBase:
    """Load and validate the whole knowledge base (cached: the YAML is read once per process)."""
    base = _read_yaml("backbones.yaml")
    backbones = {name: {"name": name, **record} for name, record in base["backbones"].items()}
    tasks: dict[str, Any] = {}
    task_files = sorted(
        entry.name
        for entry in resources.files("knowledge").iterdir()
        if entry.name.startswith("task_") and entry.name.endswith(".yaml")
    )
    for file_name in task_files:
        record = _read_yaml(file_name)
        tasks[record["id"]] = record
    ordered = {tid: tasks[tid] for tid in _TASK_ORDER if tid in tasks}
    ordered.update({tid: rec for tid, rec in tasks.items() if tid not in ordered})
    return KnowledgeBase.model_validate(
        {"tasks": ordered, "backbones": backbones, "devices": base["devices"]}
    )
