"""Held-out phrasings for ``parse_instruction``: written before the parser, never tuned against.

Each case: the request, then the expected edits as ``(kind, {param: value})``; only the listed params are checked.
The first-sight pass rate (before any parser change made after seeing these) is recorded in the module docstring
of tests/edit/test_parse.py.
"""

from __future__ import annotations

from typing import Any

Case = tuple[str, list[tuple[str, dict[str, Any]]]]

HELD_OUT: list[Case] = [
    ("can you make the training run in bfloat16?", [("precision", {"value": "bf16-mixed"})]),
    ("Go to fp16 mixed precision please", [("precision", {"value": "16-mixed"})]),
    ("back to full precision (fp32)", [("precision", {"value": "32-true"})]),
    (
        "stop training early when val_acc stops improving",
        [("early_stopping", {"monitor": "val_acc", "mode": "max"})],
    ),
    ("add an earlystopping callback, patience=10", [("early_stopping", {"patience": 10})]),
    ("i want a warmup + cosine decay lr schedule", [("cosine_schedule", {})]),
    ("cosine lr with 1000 warm up steps", [("cosine_schedule", {"warmup_steps": 1000})]),
    ("replace cross entropy with focal loss (gamma 3)", [("focal_loss", {"gamma": 3.0})]),
    ("track experiments with mlflow", [("mlflow_logger", {})]),
    (
        "log metrics to an mlflow server at http://localhost:5000",
        [("mlflow_logger", {"tracking_uri": "http://localhost:5000"})],
    ),
    ("keep the backbone frozen for the first 3 epochs", [("freeze_backbone", {"epochs": 3})]),
    ("clip gradients to 0.5", [("gradient_clipping", {"value": 0.5})]),
    ("clip grad norm at 5", [("gradient_clipping", {"value": 5.0, "algorithm": "norm"})]),
    ("make it reproducible with seed 1234", [("seed", {"seed": 1234})]),
    ("switch the optimizer to SGD", [("optimizer", {"name": "SGD"})]),
    ("lower the learning rate to 1e-4", [("optimizer", {"lr": 1e-4})]),
    ("batch size 128", [("batch_size", {"value": 128})]),
    ("train on 8 gpus using ddp", [("devices", {"devices": 8, "strategy": "ddp", "accelerator": "gpu"})]),
    ("run it on the cpu", [("devices", {"accelerator": "cpu"})]),
    (
        "use bf16 and add early stopping on val/loss",
        [("precision", {"value": "bf16-mixed"}), ("early_stopping", {"monitor": "val/loss", "mode": "min"})],
    ),
    ("mak it use bf16 pls", [("precision", {"value": "bf16-mixed"})]),
    ("add erly stoping", [("early_stopping", {})]),
    ("Nutze bitte bf16 Mixed Precision", [("precision", {"value": "bf16-mixed"})]),
    ("Füge Early Stopping mit Geduld 4 hinzu", [("early_stopping", {"patience": 4})]),
    ("utilise la focal loss", [("focal_loss", {})]),
]
