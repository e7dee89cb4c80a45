"""Edit the user's training code on request ("make it use bf16", "add early stopping on val/loss") with LibCST.

Public API: :func:`edit_code` (request -> edited files, diff, what changed where, what was skipped and why, a
re-review), :func:`parse_instruction` (words -> edit specs), the models :class:`EditRequest`, :class:`EditResult`
and one model per edit kind (:data:`EditSpec` is their union). Edits go through the review engine's fix applier
(tools/review/fix.py), so comments and formatting of untouched code survive.
"""

from __future__ import annotations

from tools.edit.engine import apply_edit, edit_code
from tools.edit.models import (
    BatchSizeEdit,
    ChecklistChange,
    CheckpointEdit,
    CosineScheduleEdit,
    DevicesEdit,
    EarlyStoppingEdit,
    EditKind,
    EditRequest,
    EditResult,
    EditSpec,
    FocalLossEdit,
    FreezeBackboneEdit,
    GradientClippingEdit,
    LoggerEdit,
    MLflowEdit,
    OptimizerEdit,
    PrecisionEdit,
    SeedEdit,
)
from tools.edit.parse import describe_supported, parse_instruction

__all__ = [
    "BatchSizeEdit",
    "ChecklistChange",
    "CheckpointEdit",
    "CosineScheduleEdit",
    "DevicesEdit",
    "EarlyStoppingEdit",
    "EditKind",
    "EditRequest",
    "EditResult",
    "EditSpec",
    "FocalLossEdit",
    "FreezeBackboneEdit",
    "GradientClippingEdit",
    "LoggerEdit",
    "MLflowEdit",
    "OptimizerEdit",
    "PrecisionEdit",
    "SeedEdit",
    "apply_edit",
    "describe_supported",
    "edit_code",
    "parse_instruction",
]
