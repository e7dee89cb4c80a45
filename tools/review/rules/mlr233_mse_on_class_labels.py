"""MLR233: mse on class labels."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_inputs import LABELS, F
from tools.review.rules.mlr014_softmax_before_cross_entropy import loss_applications


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
    VALID = [F + "loss = F.mse_loss(pred_boxes, target_boxes)\n"]
    INVALID = [
        F + "loss = F.mse_loss(logits, labels.float())\n",
        F + "loss = F.mse_loss(out, F.one_hot(y, 10).float())\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        # Classification evidence: class counts, classification metrics, or an accuracy computed on the
        # same predictions (``val_acc``, ``pred.round() == y``): accuracy only makes sense for classes.
        classification = project.mentions(
            r"num_classes|n_classes|Multiclass|Accuracy|classes|[\"'/_]acc[\"'_]|\)\s*==\s*(y|labels?|target)\b"
        )
        for call, short in loss_applications(project, {"MSELoss", "mse_loss"}):
            target = call.positional(1) or call.kw_node("target")
            text = call.file.code(target) if target is not None else ""
            if LABELS.search(text) or (classification and raw_name(target).split(".")[0] in {"y", "labels"}):
                yield self.at(call.file, call.node, f"{short} regresses class labels: {call.code(60)}")
