"""MLR234: cross entropy for multilabel."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_inputs import MULTILABEL, F
from tools.review.rules.loss_scope import loss_applications, scope_text


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
    VALID = [
        F + "from torchmetrics.classification import MultilabelF1Score\ncrit = nn.BCEWithLogitsLoss()\n",
        # A multi-label head: one logit per label, BCE with a per-label pos_weight on multi-hot targets.
        F
        + "head = nn.Linear(512, num_labels)\ncrit = nn.BCEWithLogitsLoss(pos_weight=torch.ones(num_labels))\n"
        "loss = crit(head(features), multi_hot.float())\n",
    ]
    INVALID = [
        F
        + "from torchmetrics.classification import MultilabelF1Score\nf1 = MultilabelF1Score(num_labels=80)\n"
        "crit = nn.CrossEntropyLoss()\nloss = crit(logits, targets)\n",
        # Multi-hot targets (several 1s per row) fed to softmax cross-entropy: the labels compete.
        F + "from sklearn.preprocessing import MultiLabelBinarizer\n"
        "multi_hot = torch.tensor(MultiLabelBinarizer().fit_transform(tags), dtype=torch.float32)\n"
        "loss = F.cross_entropy(model(images), multi_hot)\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        # Multi-label evidence is code in the loss call's class (or file): a Multilabel* metric, a
        # ``task="multilabel"`` metric, multi-hot targets. A helper named ``convert_multilabel_to_single_label``
        # or a docstring saying "multilabel" is not evidence.
        if not project.mentions(MULTILABEL.pattern):
            return
        for call, short in loss_applications(project, {"CrossEntropyLoss", "cross_entropy"}):
            if _MULTILABEL_CODE.search(scope_text(project, call)):
                yield self.at(call.file, call.node, f"{short} on multi-label targets: {call.code(60)}")


_MULTILABEL_CODE = re.compile(r"\bMulti[lL]abel\w*\(|task\s*=\s*[\"']multilabel[\"']|multi_label\s*=\s*True")
