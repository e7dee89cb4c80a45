"""MLR236: mixup with hard labels."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_scope import loss_applications
from tools.review.rules.mlr014_softmax_before_cross_entropy import LOSSES as LOSS_NAMES


class MixupWithHardLabels(Rule):
    """MixUp/CutMix mixes the images but the loss still uses the original hard labels.

    ``x, y_mix = mixup(x, y)`` returns soft targets that match the mixed images; computing the loss against
    the unmixed ``y`` trains the model to predict one image's class for a blend of two, which hurts accuracy
    instead of regularising. Use the mixed targets (with ``SoftTargetCrossEntropy`` or ``CrossEntropyLoss``
    on probabilities).
    """

    code = "MLR236"
    name = "mixup-with-hard-labels"
    checklist = "loss-function"
    severity = "error"
    message = "MixUp/CutMix images trained against unmixed labels"
    suggestion = "Use the targets returned by the mixup call: x, y = self.mixup(x, y); loss = SoftTargetCrossEntropy()(logits, y)."
    VALID = [
        "from timm.data import Mixup\nclass M:\n    def __init__(self):\n        self.mixup = Mixup(mixup_alpha=0.8)\n"
        "    def training_step(self, batch, i):\n        x, y = batch\n        x, y = self.mixup(x, y)\n"
        "        return self.criterion(self(x), y)\n"
    ]
    INVALID = [
        "from timm.data import Mixup\nclass M:\n    def __init__(self):\n        self.mixup = Mixup(mixup_alpha=0.8)\n"
        "        self.criterion = nn.CrossEntropyLoss()\n"
        "    def training_step(self, batch, i):\n        x, y = batch\n        x, _ = self.mixup(x, y)\n"
        "        return self.criterion(self(x), y)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        mixers = {
            c.target
            for c in project.calls
            if c.short in {"Mixup", "MixUp", "CutMix", "FastCollateMixup"} and c.target
        }
        if not mixers:
            return
        for call in project.calls:
            if call.raw not in mixers or call.func is None:
                continue
            stmt = call.stmt
            if not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign)):
                continue
            target = stmt.body[0].targets[0].target
            names = (
                [call.file.code(e.value) for e in target.elements] if isinstance(target, cst.Tuple) else []
            )
            mixed_targets = set(names[1:])
            line = call.file.line(call.node)
            for loss, short in loss_applications(project, LOSS_NAMES):
                if loss.func is not call.func or loss.file.line(loss.node) <= line:
                    continue
                y = loss.positional(1)
                y_name = raw_name(y) if y is not None else ""
                if y_name and y_name not in mixed_targets:
                    yield self.at(
                        loss.file,
                        loss.node,
                        f"{short} uses {y_name}, not the mixed targets of {call.code(40)}",
                    )
                    return
