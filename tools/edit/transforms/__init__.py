"""One transform per edit kind: ``(spec, project) -> Outcome`` (fixes for the shared LibCST applier + sentences)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.edit.source import Project
from tools.edit.transforms.callbacks import checkpoint, early_stopping, freeze_backbone
from tools.edit.transforms.common import Outcome
from tools.edit.transforms.focal import focal_loss
from tools.edit.transforms.hparams import batch_size, optimizer
from tools.edit.transforms.logging import logger, mlflow_logger
from tools.edit.transforms.schedule import cosine_schedule
from tools.edit.transforms.seed import seed
from tools.edit.transforms.trainer_args import devices, gradient_clipping, precision

Transform = Callable[[Any, Project], Outcome]

TRANSFORMS: dict[str, Transform] = {
    "precision": precision,
    "early_stopping": early_stopping,
    "cosine_schedule": cosine_schedule,
    "focal_loss": focal_loss,
    "mlflow_logger": mlflow_logger,
    "checkpoint": checkpoint,
    "logger": logger,
    "freeze_backbone": freeze_backbone,
    "gradient_clipping": gradient_clipping,
    "seed": seed,
    "optimizer": optimizer,
    "batch_size": batch_size,
    "devices": devices,
}

__all__ = ["TRANSFORMS", "Outcome", "Transform"]
