"""MLR237: sigmoid before a with-logits loss."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_scope import loss_applications

_LM = "import torch\nimport torch.nn as nn\nimport lightning as L\n"
_WITH_LOGITS = {"BCEWithLogitsLoss", "binary_cross_entropy_with_logits", "sigmoid_focal_loss"}


def _is_sigmoid(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and raw_name(node.func).rsplit(".", 1)[-1] == "Sigmoid"


class SigmoidBeforeLogitsLoss(Rule):
    """The model already applies sigmoid, and the loss applies it again (``BCEWithLogitsLoss``).

    ``BCEWithLogitsLoss`` expects raw logits; feeding it probabilities squashes them a second time into
    (0.5, 0.73), so the loss can never approach zero and gradients stay tiny. Return logits from ``forward``
    and apply sigmoid only for predictions/metrics.
    """

    code = "MLR237"
    name = "sigmoid-before-logits-loss"
    checklist = "loss-function"
    severity = "error"
    message = "Sigmoid applied before a with-logits loss (double sigmoid)"
    suggestion = "Return raw logits from forward(); keep BCEWithLogitsLoss and apply torch.sigmoid only for predictions."
    VALID = [
        _LM + "class M(L.LightningModule):\n    def forward(self, x):\n        return self.net(x)\n"
        "    def training_step(self, b, i):\n        return nn.functional.binary_cross_entropy_with_logits(self(b[0]), b[1])\n"
    ]
    INVALID = [
        _LM + "class M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
        "        self.net = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n        self.loss = nn.BCEWithLogitsLoss()\n"
        "    def forward(self, x):\n        return self.net(x)\n"
        "    def training_step(self, b, i):\n        return self.loss(self(b[0]), b[1])\n",
        _LM + "class M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
        "        self.loss = nn.BCEWithLogitsLoss()\n    def forward(self, x):\n        return torch.sigmoid(self.net(x))\n"
        "    def training_step(self, b, i):\n        return self.loss(self(b[0]), b[1])\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        squashing = set()
        for cls in project.classes:
            forward = cls.methods.get("forward")
            if forward is None:
                continue
            if any(c.short in {"sigmoid", "Sigmoid"} for c in forward.calls):
                squashing.add(cls.name)
            init = cls.methods.get("__init__")
            ending_in_sigmoid = {
                c.target
                for c in (init.calls if init is not None else [])
                if c.short == "Sequential" and c.target and c.node.args and _is_sigmoid(c.node.args[-1].value)
            }
            if any(c.raw in ending_in_sigmoid for c in forward.calls):
                squashing.add(cls.name)
        if not squashing:
            return
        for call, short in loss_applications(project, _WITH_LOGITS):
            if call.cls is not None and call.cls.name in squashing:
                yield self.at(
                    call.file,
                    call.node,
                    f"{short} on the output of {call.cls.name}.forward, which ends in sigmoid",
                )
