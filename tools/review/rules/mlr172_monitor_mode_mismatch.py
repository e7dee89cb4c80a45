"""MLR172: monitor mode mismatch."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.monitors import HIGHER_IS_BETTER, monitor_sites


class MonitorModeMismatch(Rule):
    """``mode`` contradicts the monitored metric (accuracy minimised, loss maximised).

    ``EarlyStopping`` and ``ModelCheckpoint`` default to ``mode="min"``: monitoring ``val/acc`` without
    ``mode="max"`` keeps the *worst* checkpoint and stops as soon as accuracy improves.
    """

    code = "MLR172"
    name = "monitor-mode-mismatch"
    checklist = "callbacks"
    severity = "error"
    message = "Monitor mode contradicts the metric"
    suggestion = 'Use mode="max" for accuracy/F1/IoU/mAP-like metrics and mode="min" for losses.'
    VALID = [
        "from lightning.pytorch.callbacks import EarlyStopping\nes = EarlyStopping(monitor='val/acc', mode='max')\n"
    ]
    INVALID = [
        "from lightning.pytorch.callbacks import EarlyStopping\nes = EarlyStopping(monitor='val/acc')\n",
        "from lightning.pytorch.callbacks import ModelCheckpoint\nck = ModelCheckpoint(monitor='val/loss', mode='max')\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for _file, key, _node, call in monitor_sites(project):
            if call is None:
                continue
            mode_arg = call.kw("mode")
            mode = call.kw_value("mode") if mode_arg is not None else "min"
            if not isinstance(mode, str):
                continue
            leaf = key.rsplit("/", 1)[-1]
            if "loss" in leaf and mode == "max":
                yield self.at(
                    call.file, mode_arg or call.node, f"mode='max' on the loss {key!r} keeps the worst model"
                )
            elif HIGHER_IS_BETTER.search(leaf) and "loss" not in leaf and "err" not in leaf and mode == "min":
                shown = "mode='min'" if mode_arg is not None else "the default mode='min'"
                yield self.at(
                    call.file,
                    mode_arg or call.node,
                    f"{shown} on {key!r}, a higher-is-better metric",
                    within=call.node,
                )
