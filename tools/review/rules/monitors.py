"""Helpers shared by the monitors rules: callback and scheduler monitors that can work."""

from __future__ import annotations

import re

import libcst as cst

from tools.review.index import Call, FileIndex
from tools.review.project import Project

LM = (
    "import lightning as L\nfrom lightning.pytorch.callbacks import ModelCheckpoint, EarlyStopping\n"
    "class M(L.LightningModule):\n    def validation_step(self, b, i):\n        self.log('val/loss', 1.0)\n"
)


HIGHER_IS_BETTER = re.compile(r"acc|f1|iou|map|auc|dice|precision|recall|score|top\d|psnr|ssim|r2", re.I)


def monitor_sites(project: Project) -> list[tuple[FileIndex, str, cst.CSTNode, Call | None]]:
    """(file, key, node, callback call) for ModelCheckpoint/EarlyStopping ``monitor=`` and scheduler dicts."""
    out: list[tuple[FileIndex, str, cst.CSTNode, Call | None]] = []
    for call in project.calls:
        if call.short in {"ModelCheckpoint", "EarlyStopping"}:
            arg = call.kw("monitor")
            node = arg.value if arg is not None else None
            if node is None and call.short == "EarlyStopping":
                node = call.positional(0)
            if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
                out.append((call.file, node.evaluated_value, node, call))
    for f in project.files:
        for func in f.functions:
            if func.name == "configure_optimizers":
                for key, value in func.dict_items:
                    if key == "monitor" and isinstance(value, cst.SimpleString):
                        out.append((f, str(value.evaluated_value), value, None))
    return out
