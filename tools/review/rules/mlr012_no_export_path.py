"""MLR012: an export path (ONNX) exists for the trained model."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.index import Call
from tools.review.models import Status
from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, PrimaryRule, first_line_anchor

_EXPORTS = {"to_onnx", "dynamo_export", "to_torchscript"}


def export_calls(project: Project) -> list[Call]:
    return [
        c
        for c in project.calls
        if c.short in _EXPORTS
        or c.name in {"torch.onnx.export", "torch.export.export", "torch.jit.trace", "torch.jit.script"}
        or (c.short == "export" and "onnx" in c.raw)
    ]


def model_given(project: Project) -> bool:
    """A model to train is among the files: a LightningModule, a manual loop, or a given model class whose
    base class is missing (the class itself is given, so the run is complete enough to export it)."""
    if project.has_model:
        return True
    built = {c.short for c in project.calls}
    fitted = {
        raw_name(v.func if isinstance(v, cst.Call) else v).rsplit(".", 1)[-1] for v in _fit_models(project)
    }
    return any(
        project.has_foreign_base(c)
        and c.name in built
        and (c.name in fitted or re.search(r"Model|Module|Net|Classifier|Lit", c.name))
        for c in project.classes
    )


def _fit_models(project: Project) -> list[cst.BaseExpression]:
    """What ``trainer.fit(model, ...)`` receives, followed through ``model = Cls(...)`` assignments."""
    out: list[cst.BaseExpression] = []
    for call in project.fit_calls:
        first = call.positional(0) or call.kw_node("model")
        if first is None:
            continue
        out.append(first)
        if isinstance(first, cst.Name):
            out += project.assigned_values(first.value, call.func)
    return out


class NoExportPath(PrimaryRule):
    """The training code has no path to a deployable artefact (ONNX).

    A checkpoint only loads with the training code; serving, mobile and TensorRT want ONNX. Exporting right
    after training (``model.to_onnx(path, input_sample, dynamic_axes=...)`` or ``torch.onnx.export``) catches
    untraceable code while it is fresh, and lets the exported graph be checked against PyTorch outputs.
    Accepted too: ``torch.export.export``, TorchScript. Files without training code are not judged.
    """

    code = "MLR012"
    name = "no-export-path"
    checklist = "onnx-export"
    severity = "warning"
    message = "No export path: the trained model is never exported to ONNX"
    suggestion = (
        "After trainer.fit, export the best checkpoint: model.to_onnx('model.onnx', torch.randn(1, 3, 224, 224), "
        "dynamic_axes={'input': {0: 'batch'}}) and check it with onnxruntime."
    )
    VALID = [
        (
            "import lightning as L\ntrainer = L.Trainer()\ntrainer.fit(model)\n"
            "model.to_onnx('m.onnx', sample, export_params=True)\n"
        ),
        "import torch.nn as nn\nclass Net(nn.Module):\n    pass\n",
    ]
    INVALID = [
        (
            "import lightning as L\nclass M(L.LightningModule):\n    pass\n"
            "trainer = L.Trainer()\ntrainer.fit(M())\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if not project.trains or export_calls(project) or not model_given(project):
            return
        anchor = first_line_anchor(project)
        if anchor is not None:
            yield self.at(
                anchor[0], anchor[1], "The model is trained but never exported (no ONNX export path)"
            )

    def judge(self, project: Project) -> tuple[Status, str]:
        exports = export_calls(project)
        if exports:
            return "pass", f"{exports[0].code()} at {exports[0].where()}"
        level = project.run_level()
        if level is not None:
            return level
        if not model_given(project):
            return "unknown", "the trained model is defined in code or config that was not given"
        return "not_applicable", "no training entry point in the reviewed code"
