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


def monitor_problems(project: Project) -> list[tuple[FileIndex, cst.CSTNode, Call | None, str]]:
    """Monitors naming a key that is never logged during fit: (file, node, callback call or None, message).

    Judged only when every logged key is a literal and the LightningModules are fully given. Callback
    monitors (``call`` set) belong to the callbacks item, scheduler-dict monitors (``call`` None) to the
    LR-scheduler item.
    """
    keys, dynamic = project.logged_keys
    patterns = project.logged_patterns
    if dynamic or not (keys or patterns) or not project.lightning_modules:
        return []
    if any(project.has_foreign_base(c) for c in project.lightning_modules):
        return []
    during_fit = {k for k, c, _ in keys if not _test_hook(c)}
    test_only = {k for k, _, _ in keys} - during_fit
    logged = during_fit | {f"{k}_epoch" for k in during_fit} | {f"{k}_step" for k in during_fit}
    fit_patterns = [p for p, c in patterns if not _test_hook(c)]
    problems: list[tuple[FileIndex, cst.CSTNode, Call | None, str]] = []
    for file, key, node, call in monitor_sites(project):
        if any(p.fullmatch(key.removesuffix("_epoch").removesuffix("_step")) for p in fit_patterns):
            continue  # a key built at run time (f"{stage}/{name}") can be this one: never a false "never logged"
        if key in test_only:
            problems.append(
                (file, node, call, f"monitor={key!r} is only logged in test hooks, never during fit")
            )
        elif key not in logged:
            near = [k for k in logged if k.replace("/", "_") == key.replace("/", "_")]
            hint = f" (logged: {near[0]!r})" if near else ""
            problems.append((file, node, call, f"monitor={key!r} is never logged{hint}"))
    return problems


def _test_hook(call: Call) -> bool:
    """Whether ``call`` logs from a test/predict hook (its keys are not available to fit-time monitors)."""
    return call.func is not None and call.func.name.startswith(("test_", "on_test_", "predict"))
