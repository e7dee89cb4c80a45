"""Experiment loggers on the Trainer's ``logger=``: MLflow, TensorBoard, CSV files, Weights & Biases."""

from __future__ import annotations

import re

import libcst as cst

from tools.edit.models import LoggerEdit, MLflowEdit
from tools.edit.source import Project, kwarg, literal
from tools.edit.transforms.common import Outcome, _local, appending, open_trainers, setting_kwargs
from tools.review.fix import argument_indent, list_literal
from tools.review.rules.base import Edit, replace_with

Import = tuple[str, str | None, str | None]


def _experiment_name(project: Project) -> str:
    modules = project.lightning_modules()
    if not modules:
        return "lightning_logs"
    name = modules[0][1].name.value
    name = re.sub(r"^(Lit|Lightning)(?=[A-Z])", "", name)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _set_logger(
    project: Project, out: Outcome, what: str, short: str, args: str, extra_imports: list[Import]
) -> None:
    """Make every Trainer log through ``short(args)``: set ``logger=``, or add it beside the loggers already there.

    ``logger=True`` (Lightning's default TensorBoard/CSV logger) is replaced; ``logger=False`` is turned on; a
    logger of the same class is left alone; any other logger is kept and the new one is added beside it.
    """
    for f, site in open_trainers(project, out, what):
        local, imp = _local(f, f"{project.lightning}.loggers", short)
        code = f"{local}({args})"
        imports = ([imp] if imp else []) + extra_imports
        arg = kwarg(site.node, "logger")
        where = f.where(site.node)
        if arg is None or literal(arg.value) in (True, None):
            out.edit(f.path, Edit(site.node, replace=setting_kwargs([("logger", code)])), imports)
            was = "" if arg is None else f" (was logger={f.code(arg.value)})"
            out.applied.append(
                f"{where}: the Trainer logs to {what}: logger={code}{was}; it replaces Lightning's default logger"
            )
        elif literal(arg.value) is False:
            out.edit(f.path, Edit(arg.value, replace=replace_with(cst.parse_expression(code))), imports)
            out.applied.append(f"{f.where(arg)}: logging was off (logger=False); now logger={code}")
        elif short in f.code(arg.value):
            out.applied.append(f"{f.where(arg)}: the Trainer already logs to {what} (unchanged)")
        elif isinstance(arg.value, cst.List):
            out.edit(f.path, Edit(arg.value, replace=appending([code])), imports)
            out.applied.append(f"{f.where(arg)}: added {code} to the Trainer's loggers")
        else:
            both = list_literal([f.code(arg.value), code], argument_indent(site.node))
            out.edit(f.path, Edit(arg.value, replace=replace_with(cst.parse_expression(both))), imports)
            out.applied.append(f"{f.where(arg)}: the Trainer logs to both {f.code(arg.value)} and {code}")


def mlflow_logger(spec: MLflowEdit, project: Project) -> Outcome:
    out = Outcome()
    experiment = spec.experiment_name or _experiment_name(project)
    extra: list[Import] = []
    if spec.tracking_uri:
        uri = repr(spec.tracking_uri).replace("'", '"')
    else:
        uri, extra = 'os.environ.get("MLFLOW_TRACKING_URI", "file:./mlruns")', [("os", None, None)]
    _set_logger(
        project, out, "MLflow", "MLFlowLogger", f'experiment_name="{experiment}", tracking_uri={uri}', extra
    )
    if out.fixes:
        out.applied.append(
            "MLflow logging needs the mlflow package (pip install mlflow); runs go to MLFLOW_TRACKING_URI or ./mlruns"
            if extra
            else "MLflow logging needs the mlflow package (pip install mlflow)"
        )
    return out


#: name -> (class, what the user reads, the package it needs or None when Lightning's install has it).
_LOGGERS = {
    "tensorboard": ("TensorBoardLogger", "TensorBoard", "tensorboard"),
    "csv": ("CSVLogger", "CSV files", None),
    "wandb": ("WandbLogger", "Weights & Biases", "wandb"),
}


def logger(spec: LoggerEdit, project: Project) -> Outcome:
    out = Outcome()
    short, what, package = _LOGGERS[spec.name]
    name = _experiment_name(project)
    save_dir = repr(spec.save_dir or "lightning_logs").replace("'", '"')
    if spec.name == "wandb":
        args = f'project="{spec.project or name}"' + (f", save_dir={save_dir}" if spec.save_dir else "")
    else:
        args = f'save_dir={save_dir}, name="{name}"'
    _set_logger(project, out, what, short, args, [])
    if out.fixes and package:
        where = "view it with `tensorboard --logdir " + (spec.save_dir or "lightning_logs") + "`"
        note = (
            where if spec.name == "tensorboard" else "log in once with `wandb login` (or set WANDB_API_KEY)"
        )
        out.applied.append(f"{what} logging needs the {package} package (pip install {package}); {note}")
    return out
