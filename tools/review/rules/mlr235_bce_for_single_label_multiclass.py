"""MLR235: bce for single label multiclass."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_inputs import MULTILABEL, F
from tools.review.rules.mlr014_softmax_before_cross_entropy import yaml_loss_targets


class BceForSingleLabelMulticlass(Rule):
    """``BCEWithLogitsLoss``/``BCELoss`` on a single-label multi-class problem.

    With one class per sample (or per pixel, with an index mask and ``ignore_index``), binary cross-entropy
    treats the classes as independent yes/no questions: target shapes/dtypes do not match an index mask and
    the classes stop being exclusive. Use ``CrossEntropyLoss`` (``ignore_index=255`` for segmentation masks).
    """

    code = "MLR235"
    name = "bce-for-single-label-multiclass"
    checklist = "loss-function"
    severity = "error"
    message = "Binary cross-entropy on a single-label multi-class problem"
    suggestion = "Use nn.CrossEntropyLoss on (N, C, ...) logits with integer class targets (ignore_index=255 for masks)."
    VALID = [F + "crit = nn.BCEWithLogitsLoss()\nnum_classes = 1\n"]
    INVALID = [
        F + "from torchmetrics.classification import MulticlassJaccardIndex\n"
        "iou = MulticlassJaccardIndex(num_classes=21, ignore_index=255)\ncrit = nn.BCEWithLogitsLoss()\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.mentions(MULTILABEL.pattern):
            return
        multiclass = project.mentions(r"Multiclass|task=[\"']multiclass|ignore_index") or any(
            isinstance(v, int) and v > 2 for _, v, _ in project.yaml_key("num_classes")
        )
        if not multiclass:
            return
        bce = {"BCEWithLogitsLoss", "BCELoss", "binary_cross_entropy_with_logits", "binary_cross_entropy"}
        for call in project.calls:
            if call.short in bce:
                yield self.at(call.file, call.node, f"{call.short} on a single-label multi-class task")
                return
        for short, where in yaml_loss_targets(project):
            if short in bce:
                anchor = next(iter(project.trainer_calls or project.calls), None)
                if anchor is not None:
                    yield self.at(
                        anchor.file, anchor.node, f"{short} ({where}) on a single-label multi-class task"
                    )
                return
