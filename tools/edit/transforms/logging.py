"""MLflow logging through Lightning's ``MLFlowLogger`` on the Trainer's ``logger=``."""

from __future__ import annotations

import re

import libcst as cst

from tools.edit.models import MLflowEdit
from tools.edit.source import Project, kwarg, literal
from tools.edit.transforms.common import Outcome, _local, appending, open_trainers, setting_kwargs
from tools.review.fix import argument_indent, list_literal
from tools.review.rules.base import Edit, replace_with


def _experiment_name(project: Project) -> str:
    modules = project.lightning_modules()
    if not modules:
        return "lightning_logs"
    name = modules[0][1].name.value
    name = re.sub(r"^(Lit|Lightning)(?=[A-Z])", "", name)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def mlflow_logger(spec: MLflowEdit, project: Project) -> Outcome:
    out = Outcome()
    experiment = spec.experiment_name or _experiment_name(project)
    if spec.tracking_uri:
        uri, imports_os = repr(spec.tracking_uri).replace("'", '"'), False
    else:
        uri, imports_os = 'os.environ.get("MLFLOW_TRACKING_URI", "file:./mlruns")', True
    for f, site in open_trainers(project, out, "MLflow logging"):
        local, imp = _local(f, f"{project.lightning}.loggers", "MLFlowLogger")
        code = f'{local}(experiment_name="{experiment}", tracking_uri={uri})'
        imports = ([imp] if imp else []) + ([("os", None, None)] if imports_os else [])
        arg = kwarg(site.node, "logger")
        where = f.where(site.node)
        if arg is None or literal(arg.value) in (True, None):
            out.edit(
                f.path,
                Edit(
                    site.node,
                    replace=setting_kwargs([("logger", code)]),
                ),
                imports,
            )
            was = "" if arg is None else f" (was logger={f.code(arg.value)})"
            out.applied.append(
                f"{where}: the Trainer logs to MLflow: logger={code}{was}; it replaces Lightning's default TensorBoard/CSV logger"
            )
        elif literal(arg.value) is False:
            out.edit(f.path, Edit(arg.value, replace=replace_with(cst.parse_expression(code))), imports)
            out.applied.append(f"{f.where(arg)}: logging was off (logger=False); now logger={code}")
        elif "MLFlowLogger" in f.code(arg.value):
            out.applied.append(f"{f.where(arg)}: the Trainer already logs to MLflow (unchanged)")
        elif isinstance(arg.value, cst.List):
            out.edit(
                f.path,
                Edit(
                    arg.value,
                    replace=appending([code]),
                ),
                imports,
            )
            out.applied.append(f"{f.where(arg)}: added {code} to the Trainer's loggers")
        else:
            both = list_literal([f.code(arg.value), code], argument_indent(site.node))
            out.edit(f.path, Edit(arg.value, replace=replace_with(cst.parse_expression(both))), imports)
            out.applied.append(f"{f.where(arg)}: the Trainer logs to both {f.code(arg.value)} and {code}")
    if out.fixes:
        out.applied.append(
            "MLflow logging needs the mlflow package (pip install mlflow); runs go to MLFLOW_TRACKING_URI or ./mlruns"
            if imports_os
            else "MLflow logging needs the mlflow package (pip install mlflow)"
        )
    return out
