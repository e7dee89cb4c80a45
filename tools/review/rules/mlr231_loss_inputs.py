"""MLR231-MLR233: loss functions fed what they expect."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.rules.mlr014_softmax_before_cross_entropy import LOSSES as LOSS_NAMES
from tools.review.rules.mlr014_softmax_before_cross_entropy import loss_applications, yaml_loss_targets

_F = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


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
    VALID = [_F + "loss = F.binary_cross_entropy_with_logits(logits, y)\n"]
    INVALID = [
        _F + "crit = nn.BCELoss()\nloss = crit(torch.sigmoid(logits), y)\n",
        _F + "prob = logits.sigmoid()\nloss = F.binary_cross_entropy(prob, y)\n",
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


class NllLossOnLogits(Rule):
    """``nll_loss``/``NLLLoss`` receives raw logits.

    NLL expects log-probabilities; on raw logits it just returns minus the target logit, which the model can
    push to infinity: the loss diverges while accuracy stays random. Use ``cross_entropy`` on logits (or
    apply ``log_softmax`` first).
    """

    code = "MLR232"
    name = "nll-loss-on-logits"
    checklist = "loss-function"
    severity = "error"
    message = "nll_loss on raw logits (it expects log-probabilities)"
    suggestion = "Use F.cross_entropy(logits, y), or F.nll_loss(F.log_softmax(logits, dim=1), y)."
    VALID = [_F + "loss = F.nll_loss(F.log_softmax(logits, dim=1), y)\n"]
    INVALID = [_F + "logits = model(x)\nloss = F.nll_loss(logits, y)\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.mentions(r"log_softmax|LogSoftmax"):
            return
        for call, short in loss_applications(project, {"NLLLoss", "nll_loss"}):
            yield self.at(call.file, call.node, f"{short} without log_softmax anywhere: {call.code(60)}")


_LABELS = re.compile(r"label|class|cls\b|target.*long|one_hot|\.long\(\)|categor", re.I)


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
    VALID = [_F + "loss = F.mse_loss(pred_boxes, target_boxes)\n"]
    INVALID = [
        _F + "loss = F.mse_loss(logits, labels.float())\n",
        _F + "loss = F.mse_loss(out, F.one_hot(y, 10).float())\n",
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
            if _LABELS.search(text) or (classification and raw_name(target).split(".")[0] in {"y", "labels"}):
                yield self.at(call.file, call.node, f"{short} regresses class labels: {call.code(60)}")


_MULTILABEL = re.compile(r"Multilabel|multilabel|multi_label|num_labels|MultiLabel")


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
        _F + "from torchmetrics.classification import MultilabelF1Score\ncrit = nn.BCEWithLogitsLoss()\n"
    ]
    INVALID = [
        _F
        + "from torchmetrics.classification import MultilabelF1Score\nf1 = MultilabelF1Score(num_labels=80)\n"
        "crit = nn.CrossEntropyLoss()\nloss = crit(logits, targets)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if not project.mentions(_MULTILABEL.pattern):
            return
        for call, short in loss_applications(project, {"CrossEntropyLoss", "cross_entropy"}):
            yield self.at(call.file, call.node, f"{short} on multi-label targets: {call.code(60)}")


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
    VALID = [_F + "crit = nn.BCEWithLogitsLoss()\nnum_classes = 1\n"]
    INVALID = [
        _F + "from torchmetrics.classification import MulticlassJaccardIndex\n"
        "iou = MulticlassJaccardIndex(num_classes=21, ignore_index=255)\ncrit = nn.BCEWithLogitsLoss()\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.mentions(_MULTILABEL.pattern):
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
