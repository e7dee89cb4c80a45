"""MLR233: mse on class labels."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_inputs import LABELS, F
from tools.review.rules.loss_scope import loss_applications, scope_text


class MseOnClassLabels(Rule):
    """``MSELoss`` regresses class labels.

    Treating class ids as numbers imposes an order and distances that do not exist (class 3 is not "closer"
    to 2 than to 7) and converges poorly; classification wants cross-entropy on logits.
    """

    code = "MLR233"
    name = "mse-on-class-labels"
    checklist = "loss-function"
    severity = "error"
    message = "MSE loss on class labels"
    suggestion = "Use nn.CrossEntropyLoss on logits with integer class targets."
    VALID = [
        F + "loss = F.mse_loss(pred_boxes, target_boxes)\n",
        # A regressor: a head of N outputs, MSE on (normalised) float targets, MAE/RMSE metrics.
        F + "from torchmetrics import MeanAbsoluteError\nhead = nn.Linear(512, num_outputs)\n"
        "crit = nn.MSELoss()\nloss = crit(head(features), (ages - mean) / std)\nmae = MeanAbsoluteError()\n",
    ]
    INVALID = [
        F + "loss = F.mse_loss(logits, labels.float())\n",
        F + "loss = F.mse_loss(out, F.one_hot(y, 10).float())\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        # Classification evidence, read in the class (and its project family) holding the loss call, or its
        # file: class counts, classification metrics, or predictions compared with the targets. Never log-key
        # text or helper names: a regressor logging ``test_acc`` or a sibling classifier decides nothing.
        for call, short in loss_applications(project, {"MSELoss", "mse_loss"}):
            target = call.positional(1) or call.kw_node("target")
            text = call.file.code(target) if target is not None else ""
            if LABELS.search(text) or (
                raw_name(target).split(".")[0] in {"y", "labels"}
                and _CLASSIFICATION.search(scope_text(project, call))
            ):
                yield self.at(call.file, call.node, f"{short} regresses class labels: {call.code(60)}")


_CLASSIFICATION = re.compile(
    r"num_classes|n_classes|Multiclass\w*\(|\bAccuracy\(|\bclasses\s*=|\)\s*==\s*(y|labels?|target)\b"
)
