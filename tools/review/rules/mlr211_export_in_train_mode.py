"""MLR211: the model is in eval mode when it is exported."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.index import Call
from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.mlr012_no_export_path import export_calls


class ExportInTrainMode(Rule):
    """The model is exported while still in training mode.

    After ``trainer.fit`` (and after ``load_from_checkpoint``) the module is in training mode; ``to_onnx`` and
    torch 2.x's default (dynamo) ONNX exporter keep that mode, so Dropout stays active and BatchNorm uses batch
    statistics in the exported graph: predictions differ from PyTorch's and vary with the batch.
    """

    code = "MLR211"
    name = "export-in-train-mode"
    checklist = "onnx-export"
    severity = "error"
    message = "Model exported without calling .eval() first"
    suggestion = "Call model.eval() before exporting (and compare the ONNX outputs with PyTorch's)."
    VALID = [
        "import torch\nmodel.eval()\ntorch.onnx.export(model, (x,), 'm.onnx')\n",
        "def export(model, x):\n    model = model.eval()\n    model.to_onnx('m.onnx', x)\n",
        # The mode is set by a helper of the project: the exported value comes back from `.eval()`.
        "import torch\ndef load(path):\n    model = build(path)\n    return model.eval()\n"
        "def export(path, x):\n    model = load(path)\n    torch.onnx.export(model, (x,), 'm.onnx')\n",
        "import torch\ndef export(model, x):\n    torch.onnx.export(Wrapper(model).eval(), (x,), 'm.onnx')\n",
    ]
    INVALID = [
        "import lightning as L\nmodel.eval()\nmodel.to_onnx('m.onnx', sample)\ntrainer = L.Trainer()\ntrainer.fit(model)\n",
        "import lightning as L\ntrainer = L.Trainer()\ntrainer.fit(model)\nmodel.to_onnx('m.onnx', sample)\n",
    ]

    @staticmethod
    def _exported(call: Call) -> cst.BaseExpression | str | None:
        """The exported model: the first argument of ``torch.onnx.export``, the receiver of ``m.to_onnx``."""
        return call.positional(0) if call.name.startswith("torch.") else call.receiver or None

    def _helper_returns_eval(self, project: Project, call: Call) -> bool:
        """The exported value is the result of ``.eval()``, directly or through a project helper returning it."""
        exported = self._exported(call)
        if isinstance(exported, cst.Call) and call.file.code(exported).rstrip().endswith(".eval()"):
            return True
        name = (
            exported.value
            if isinstance(exported, cst.Name)
            else exported
            if isinstance(exported, str)
            else None
        )
        if not name:
            return False
        evaluating = {
            f.name
            for file in project.files
            for f in file.functions
            if any(c.short == "eval" for c in f.calls) and "return" in file.code(f.node, limit=100_000)
        }
        for value in project.assigned_values(name, call.func):
            if isinstance(value, cst.Call):
                callee = call.file.code(value.func).rsplit(".", 1)[-1]
                if callee in evaluating or call.file.code(value).rstrip().endswith(".eval()"):
                    return True
        return False

    def check(self, project: Project) -> Iterable[Hit]:
        for call in export_calls(project):
            if "jit" in call.name or self._helper_returns_eval(project, call):
                continue
            line = call.file.line(call.node)
            evals = [
                c
                for c in call.file.calls
                if c.short in {"eval", "train"}
                and c.func is call.func
                and c.file.line(c.node) <= line
                and (c.short == "eval" or c.kw_value("mode") is False or c.code().endswith("(False)"))
            ]
            if not evals:
                yield self.at(
                    call.file, call.node, f"{call.code(60)} exports a model that is still in training mode"
                )
            later_fit = [
                c
                for c in project.fit_calls
                if c.func is call.func and c.file is call.file and c.file.line(c.node) > line
            ]
            if later_fit:
                yield self.at(
                    call.file,
                    call.node,
                    f"{call.code(50)} runs before {later_fit[0].code(40)}: the exported model is untrained",
                    "Export after trainer.fit (load the best checkpoint, call .eval(), then export).",
                )
