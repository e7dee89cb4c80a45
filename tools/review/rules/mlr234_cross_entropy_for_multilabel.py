"""MLR234: cross entropy for multilabel."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_inputs import MULTILABEL, F
from tools.review.rules.mlr014_softmax_before_cross_entropy import loss_applications


class CrossEntropyForMultilabel(Rule):
    """``CrossEntropyLoss`` on a multi-label problem.

    Cross-entropy assumes exactly one class per sample (a softmax over classes); with several labels per
    image it makes the labels compete. Multi-label wants ``BCEWithLogitsLoss`` on multi-hot targets (and
    ``Multilabel*`` metrics with a threshold).
    """

    code = "MLR234"
    name = "cross-entropy-for-multilabel"
    checklist = "loss-function"
    severity = "error"
    message = "CrossEntropyLoss on a multi-label problem"
    suggestion = "Use nn.BCEWithLogitsLoss with multi-hot float targets for multi-label classification."
    VALID = [F + "from torchmetrics.classification import MultilabelF1Score\ncrit = nn.BCEWithLogitsLoss()\n"]
    INVALID = [
        F
        + "from torchmetrics.classification import MultilabelF1Score\nf1 = MultilabelF1Score(num_labels=80)\n"
        "crit = nn.CrossEntropyLoss()\nloss = crit(logits, targets)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if not project.mentions(MULTILABEL.pattern):
            return
        for call, short in loss_applications(project, {"CrossEntropyLoss", "cross_entropy"}):
            yield self.at(call.file, call.node, f"{short} on multi-label targets: {call.code(60)}")
