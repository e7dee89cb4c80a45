"""Callbacks added to the Trainer: EarlyStopping and BackboneFinetuning (or a freeze hook)."""

from __future__ import annotations

import re

import libcst as cst

from tools.edit.models import CheckpointEdit, EarlyStoppingEdit, FreezeBackboneEdit
from tools.edit.source import Project, SourceFile, dotted_name, kwarg, literal, methods
from tools.edit.transforms.common import Outcome, add_callback, adding_method, setting_kwargs
from tools.review.rules.base import Edit

#: Metric-name fragments where a larger value is better (everything else: smaller is better).
_MAX = (
    "acc",
    "f1",
    "iou",
    "map",
    "auc",
    "auroc",
    "precision",
    "recall",
    "dice",
    "r2",
    "top",
    "score",
    "ap50",
    "bleu",
)
_MIN_FIRST = ("loss", "error", "err", "mae", "mse", "rmse", "wer", "cer", "perplexity", "ppl", "nll")


def mode_for(metric: str) -> str:
    """``min`` for losses and errors, ``max`` for accuracy-like scores (``val/loss`` -> min, ``val_acc`` -> max)."""
    words = re.split(r"[/_.\-\s]+", metric.lower())
    if any(w in _MIN_FIRST or w.endswith("loss") for w in words):
        return "min"
    if any(w.startswith(_MAX) or w in _MAX for w in words):
        return "max"
    return "min"


def logged_keys(project: Project) -> tuple[list[str], bool]:
    """The metric keys ``self.log("...")`` writes, and whether every key is a literal (so the list is complete)."""
    keys: list[str] = []
    complete = True
    for f, site in project.all_calls():
        name = f.code(site.node.func)
        if name in ("self.log", "self.log_dict", "pl_module.log") and site.node.args:
            first = site.node.args[0].value
            if name.endswith(".log") and isinstance(first, cst.SimpleString):
                value = first.evaluated_value
                keys.append(value if isinstance(value, str) else str(value))
            elif name.endswith(".log_dict") and isinstance(first, cst.Dict):
                for el in first.elements:
                    if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString):
                        keys.append(str(el.key.evaluated_value))
                    else:
                        complete = False
            else:
                complete = False
    return list(dict.fromkeys(keys)), complete


def _norm(key: str) -> str:
    return re.sub(r"[/_.\-\s]+", "_", key.lower())


def choose_monitor(spec_monitor: str | None, project: Project) -> tuple[str | None, str]:
    """The metric to monitor and a note; None with the reason when the asked-for key is not logged."""
    keys, complete = logged_keys(project)
    if spec_monitor is None:
        for pattern in (r"^val.*loss", r"^valid.*loss", r"val", r"loss"):
            for key in keys:
                if re.search(pattern, key.lower()):
                    return key, f"it monitors {key}, the validation metric the code logs"
        return "val_loss", "no validation loss is logged by the code as given: it monitors val_loss; log it"
    if spec_monitor in keys:
        return spec_monitor, ""
    close = [k for k in keys if _norm(k) == _norm(spec_monitor)]
    if close:
        return close[0], f"the code logs {spec_monitor} as {close[0]}"
    if keys and complete:
        return None, f"{spec_monitor} is not logged by the code (it logs: {', '.join(keys)})"
    return spec_monitor, ""


def early_stopping(spec: EarlyStoppingEdit, project: Project) -> Outcome:
    out = Outcome()
    monitor, note = choose_monitor(spec.monitor, project)
    if monitor is None:
        out.skipped.append(f"early stopping: {note}; EarlyStopping would stop the run with an error")
        return out
    mode = spec.mode or mode_for(monitor)
    args = [("monitor", f'"{monitor}"'), ("mode", f'"{mode}"'), ("patience", str(spec.patience))]
    code = "EarlyStopping(" + ", ".join(f"{k}={v}" for k, v in args) + ")"
    add_callback(
        project, out, "early stopping", "EarlyStopping", code, f"{project.lightning}.callbacks", args
    )
    if out.fixes and note:
        out.applied.append(f"early stopping: {note}")
    return out


def checkpoint(spec: CheckpointEdit, project: Project) -> Outcome:
    """Keep the best ``save_top_k`` checkpoints by the metric (and ``last.ckpt`` to resume a killed run)."""
    out = Outcome()
    monitor, note = choose_monitor(spec.monitor, project)
    if monitor is None:
        out.skipped.append(f"checkpointing: {note}; ModelCheckpoint would stop the run with an error")
        return out
    mode = spec.mode or mode_for(monitor)
    args = [
        ("monitor", f'"{monitor}"'),
        ("mode", f'"{mode}"'),
        ("save_top_k", str(spec.save_top_k)),
        ("save_last", str(spec.save_last)),
    ]
    code = "ModelCheckpoint(" + ", ".join(f"{k}={v}" for k, v in args) + ")"
    # An existing ModelCheckpoint keeps what the request did not mention (its save_top_k, its save_last).
    asked = spec.model_fields_set | {"monitor", "mode"}
    update = [(k, v) for k, v in args if k in asked]
    add_callback(
        project, out, "checkpointing", "ModelCheckpoint", code, f"{project.lightning}.callbacks", update
    )
    for f, site in project.trainer_calls():
        off = kwarg(site.node, "enable_checkpointing")
        if out.fixes and off is not None and literal(off.value) is False:
            # Lightning refuses a ModelCheckpoint callback when checkpointing is switched off.
            out.edit(f.path, Edit(site.node, replace=setting_kwargs([("enable_checkpointing", "True")])))
            out.applied.append(
                f"{f.where(off)}: enable_checkpointing=False became True (Lightning needs it on)"
            )
    if out.fixes:
        best = "the best checkpoint" if spec.save_top_k == 1 else f"the best {spec.save_top_k} checkpoints"
        out.applied.append(
            f"checkpointing keeps {best} by {monitor} ({mode})"
            + (" and last.ckpt (resume with trainer.fit(..., ckpt_path='last'))" if spec.save_last else "")
            + (f"; {note}" if note else "")
        )
    return out


_FILTER = "filter(lambda p: p.requires_grad, self.parameters())"


def _attributes(cls: cst.ClassDef) -> list[str]:
    """``self.X = ...`` attributes assigned in ``__init__``."""
    init = methods(cls).get("__init__")
    names: list[str] = []
    if init is None:
        return names

    class _V(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                name = dotted_name(t.target)
                if name.startswith("self.") and name.count(".") == 1:
                    names.append(name[5:])

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            name = dotted_name(node.target)
            if name.startswith("self.") and name.count(".") == 1:
                names.append(name[5:])

    init.visit(_V())
    return list(dict.fromkeys(names))


_NOT_MODULES = (
    "lr",
    "config",
    "cfg",
    "hparams",
    "num_classes",
    "criterion",
    "loss",
    "loss_fn",
    "example_input_array",
)


def freeze_backbone(spec: FreezeBackboneEdit, project: Project) -> Outcome:
    out = Outcome()
    modules = project.lightning_modules()
    if not modules:
        out.skipped.append("freeze the backbone: no LightningModule found in the code")
        return out
    with_attr = [(f, c) for f, c in modules if spec.attribute in _attributes(c)]
    if not with_attr:
        f, c = modules[0]
        attrs = [
            a
            for a in _attributes(c)
            if a not in _NOT_MODULES and not a.endswith(("_acc", "_metric", "_loss"))
        ]
        listed = ", ".join(f"self.{a}" for a in attrs) or "none"
        need = (
            " (Lightning's BackboneFinetuning needs a `backbone` attribute)"
            if spec.attribute == "backbone"
            else ""
        )
        out.skipped.append(
            f"freeze the backbone: {c.name.value} ({f.where(c)}) has no self.{spec.attribute}{need}; its attributes: "
            f"{listed}. Say which one to freeze, e.g. 'freeze self.{attrs[0] if attrs else 'encoder'} for {spec.epochs} epochs'"
        )
        return out
    if spec.attribute == "backbone":
        code = f"BackboneFinetuning(unfreeze_backbone_at_epoch={spec.epochs})"
        add_callback(
            project,
            out,
            "freeze the backbone",
            "BackboneFinetuning",
            code,
            f"{project.lightning}.callbacks",
            [("unfreeze_backbone_at_epoch", str(spec.epochs))],
        )
        if out.fixes:
            for f, cls in with_attr:
                _filter_optimizer_params(f, cls, out)
            out.applied.append(
                f"the backbone is frozen for epochs 0-{spec.epochs - 1}; at epoch {spec.epochs} it is unfrozen and "
                "added to the optimizer with 1/10 of the learning rate"
            )
        return out
    for f, cls in with_attr:
        hook = methods(cls).get("on_train_epoch_start")
        lines = [
            f"# Keep self.{spec.attribute} frozen for the first {spec.epochs} epoch(s), then train it too.",
            f"for param in self.{spec.attribute}.parameters():",
            f"    param.requires_grad = self.current_epoch >= {spec.epochs}",
        ]
        if hook is None:
            method = "def on_train_epoch_start(self) -> None:\n" + "".join(f"    {line}\n" for line in lines)
            out.edit(
                f.path,
                Edit(cls, replace=adding_method(method)),
            )
            out.applied.append(
                f"{f.where(cls)}: added {cls.name.value}.on_train_epoch_start, which freezes self.{spec.attribute} for {spec.epochs} epoch(s)"
            )
        else:
            block = hook.body
            if not isinstance(block, cst.IndentedBlock) or not block.body:
                out.skipped.append(f"freeze: {f.where(hook)}: on_train_epoch_start has no body to extend")
                continue
            out.edit(
                f.path,
                Edit(block.body[0], insert_before=[lines[1] + "\n" + lines[2]]),
            )
            out.applied.append(
                f"{f.where(hook)}: on_train_epoch_start now freezes self.{spec.attribute} for {spec.epochs} epoch(s)"
            )
    return out


def _filter_optimizer_params(f: SourceFile, cls: cst.ClassDef, out: Outcome) -> None:
    """``Opt(self.parameters(), ...)`` -> ``Opt(filter(lambda p: p.requires_grad, self.parameters()), ...)``.

    BackboneFinetuning adds the backbone to the optimizer when it unfreezes it; parameters already there would
    be skipped with a warning and never get their own (lower) learning rate.
    """
    conf = methods(cls).get("configure_optimizers")
    if conf is None:
        return
    for site in f.calls:
        if site.func is conf and site.node.args and f.code(site.node.args[0].value) == "self.parameters()":
            first = site.node.args[0].value
            out.edit(f.path, Edit(first, replace=lambda _n: cst.parse_expression(_FILTER)))
            out.applied.append(
                f"{f.where(first)}: the optimizer now gets only trainable parameters ({_FILTER})"
            )
