"""MLR171-MLR172: callback and scheduler monitors that can work."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.index import Call, FileIndex
from tools.review.project import Project
from tools.review.rules.base import Hit, Rule

_LM = (
    "import lightning as L\nfrom lightning.pytorch.callbacks import ModelCheckpoint, EarlyStopping\n"
    "class M(L.LightningModule):\n    def validation_step(self, b, i):\n        self.log('val/loss', 1.0)\n"
)
_HIGHER_IS_BETTER = re.compile(r"acc|f1|iou|map|auc|dice|precision|recall|score|top\d|psnr|ssim|r2", re.I)


class _SchedulerMonitors(cst.CSTVisitor):
    """Collects ``"monitor": "<key>"`` entries of dicts (scheduler configs in configure_optimizers)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.SimpleString] = []

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key, value = node.key, node.value
        if (
            isinstance(key, cst.SimpleString)
            and key.evaluated_value == "monitor"
            and isinstance(value, cst.SimpleString)
        ):
            self.found.append(value)


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
                collector = _SchedulerMonitors()
                func.node.body.visit(collector)
                out += [(f, str(v.evaluated_value), v, None) for v in collector.found]
    return out


class MonitorUnknownKey(Rule):
    """A ``monitor=`` names a metric that is never logged.

    ``ModelCheckpoint``/``EarlyStopping``/``ReduceLROnPlateau`` look the key up in the logged metrics; a typo
    or a prefix mismatch (``val_loss`` vs ``val/loss``) makes Lightning raise after the first validation
    epoch, or silently keep only the last checkpoint. Only judged when every logged key is a literal.
    """

    code = "MLR171"
    name = "monitor-unknown-key"
    checklist = "callbacks"
    severity = "error"
    message = "monitor names a metric that is never logged"
    suggestion = "Monitor a key the LightningModule logs (check prefixes: val/loss vs val_loss)."
    VALID = [_LM + "cb = ModelCheckpoint(monitor='val/loss')\n"]
    INVALID = [
        _LM + "cb = ModelCheckpoint(monitor='val_loss')\n",
        _LM + "es = EarlyStopping(monitor='val/acc')\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        keys, dynamic = project.logged_keys
        if dynamic or not keys or any(project.has_foreign_base(c) for c in project.lightning_modules):
            return
        if not project.lightning_modules:
            return
        logged = {k for k, _, _ in keys}
        logged |= {f"{k}_epoch" for k in logged} | {f"{k}_step" for k in logged}
        for file, key, node, call in monitor_sites(project):
            if key not in logged:
                near = [k for k in logged if k.replace("/", "_") == key.replace("/", "_")]
                hint = f" (logged: {near[0]!r})" if near else ""
                within = call.node if call is not None else None
                yield self.at(file, node, f"monitor={key!r} is never logged{hint}", within=within)


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
            elif (
                _HIGHER_IS_BETTER.search(leaf) and "loss" not in leaf and "err" not in leaf and mode == "min"
            ):
                shown = "mode='min'" if mode_arg is not None else "the default mode='min'"
                yield self.at(
                    call.file,
                    mode_arg or call.node,
                    f"{shown} on {key!r}, a higher-is-better metric",
                    within=call.node,
                )
