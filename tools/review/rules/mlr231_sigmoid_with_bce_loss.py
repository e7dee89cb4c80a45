"""MLR231: sigmoid with bce loss."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_inputs import F
from tools.review.rules.loss_scope import loss_applications
from tools.review.rules.mlr014_softmax_before_cross_entropy import yaml_loss_targets


class SigmoidWithBceLoss(Rule):
    """``sigmoid`` + ``BCELoss`` instead of ``BCEWithLogitsLoss``.

    Applying sigmoid and then a log in two steps loses precision for confident predictions (log(0) clamps,
    gradients vanish) and breaks under fp16 autocast, where Lightning/PyTorch refuse ``BCELoss`` outright.
    ``BCEWithLogitsLoss`` fuses both with the log-sum-exp trick and takes raw logits.
    """

    code = "MLR231"
    name = "sigmoid-with-bce-loss"
    checklist = "loss-function"
    severity = "warning"
    message = "BCELoss on sigmoid outputs (use BCEWithLogitsLoss on logits)"
    suggestion = (
        "Drop the sigmoid and use nn.BCEWithLogitsLoss / F.binary_cross_entropy_with_logits on raw logits."
    )
    VALID = [F + "loss = F.binary_cross_entropy_with_logits(logits, y)\n"]
    INVALID = [
        F + "crit = nn.BCELoss()\nloss = crit(torch.sigmoid(logits), y)\n",
        F + "prob = logits.sigmoid()\nloss = F.binary_cross_entropy(prob, y)\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        uses_sigmoid = project.mentions(r"sigmoid|Sigmoid")
        if not uses_sigmoid:
            return
        for call, short in loss_applications(project, {"BCELoss", "binary_cross_entropy"}):
            yield self.at(call.file, call.node, f"{short} on probabilities: {call.code(60)}")
        for short, where in yaml_loss_targets(project):
            if short == "BCELoss":
                sig = next((c for c in project.calls if c.short in {"sigmoid", "Sigmoid"}), None)
                if sig is not None:
                    yield self.at(sig.file, sig.node, f"sigmoid feeds the BCELoss configured at {where}")
