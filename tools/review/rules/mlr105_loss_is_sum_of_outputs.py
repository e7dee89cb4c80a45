"""MLR105: loss is sum of outputs."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.structure import LM


class LossIsSumOfOutputs(Rule):
    """The training loss is ``.sum()`` of the model's outputs.

    ``self(x).sum()`` is a placeholder, not a loss: it ignores the targets, so the model learns to drive its
    outputs to minus infinity. Compute a real criterion against the labels.
    """

    code = "MLR105"
    name = "loss-is-sum-of-outputs"
    checklist = "lightning-module"
    severity = "error"
    message = "The loss is the sum of the model outputs (targets ignored)"
    suggestion = "Compute a criterion against the targets, e.g. F.cross_entropy(self(x), y)."
    VALID = [
        LM
        + "import torch.nn.functional as F\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n        x, y = b\n        return F.cross_entropy(self(x), y)\n"
    ]
    INVALID = [
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        x, y = b\n        loss = self(x).sum()\n        return loss\n",
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        out = self.model(b[0])\n        return out.sum()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            step = project.method(cls, "training_step")
            if step is None:
                continue
            outputs = {
                a.target
                for f in project.files
                for a in f.assignments
                if a.func is step
                and isinstance(a.value, cst.Call)
                and f.code(a.value.func) in {"self", "self.forward", "self.model", "self.net"}
            }
            for call in step.calls:
                if call.short != "sum" or not isinstance(call.node.func, cst.Attribute):
                    continue
                recv = call.node.func.value
                code = call.file.code(recv)
                direct = isinstance(recv, cst.Call) and call.file.code(recv.func) in {
                    "self",
                    "self.forward",
                    "self.model",
                    "self.net",
                }
                if direct or code in outputs:
                    yield self.at(call.file, call.node, f"{call.code(60)} is used as the loss")
