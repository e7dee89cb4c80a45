"""The 14-item review checklist every ML engineer here follows; ids are part of the public contract."""

from __future__ import annotations

CHECKLIST: list[tuple[str, str]] = [
    ("lightning-module", "Model uses a LightningModule with proper structure"),
    ("data-module", "Data uses a LightningDataModule with proper splits"),
    ("pydantic-config", "Config uses Pydantic with validated fields"),
    ("metric-prefixes", "Metrics are logged properly (train/, val/, test/ prefixes)"),
    ("lr-scheduler", "Learning-rate scheduling is configured"),
    ("gradient-clipping", "Gradient clipping is enabled"),
    ("mixed-precision", "Mixed precision is enabled where applicable"),
    ("callbacks", "Callbacks are used (checkpoint, early stopping, LR monitor)"),
    ("seeding", "Random seeds are set for reproducibility"),
    ("data-leakage", "No data leakage between splits"),
    ("experiment-tracking", "Experiment is tracked (W&B, MLflow, TensorBoard, CSV)"),
    ("onnx-export", "An export path (ONNX) is considered"),
    ("augmentations", "Augmentations are appropriate for the task"),
    ("loss-function", "Proper loss function for the problem type"),
]

CHECKLIST_IDS: list[str] = [item_id for item_id, _ in CHECKLIST]
TITLES: dict[str, str] = dict(CHECKLIST)
