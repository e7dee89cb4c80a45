"""MLR014: the loss function receives what it expects (logits for cross-entropy)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.fix_moves import forward_softmax_fix
from tools.review.index import Call, FileIndex
from tools.review.models import Status
from tools.review.project import Project, raw_name
from tools.review.rules.base import Edit, Fix, Hit, PrimaryRule, replace_with
from tools.review.walk import find_all

LOSSES = {
    "CrossEntropyLoss",
    "cross_entropy",
    "BCEWithLogitsLoss",
    "binary_cross_entropy_with_logits",
    "BCELoss",
    "binary_cross_entropy",
    "NLLLoss",
    "nll_loss",
    "MSELoss",
    "mse_loss",
    "L1Loss",
    "l1_loss",
    "SmoothL1Loss",
    "smooth_l1_loss",
    "HuberLoss",
    "FocalLoss",
    "sigmoid_focal_loss",
    "DiceLoss",
    "KLDivLoss",
    "kl_div",
    "CTCLoss",
    "TripletMarginLoss",
    "CosineEmbeddingLoss",
    "JaccardLoss",
    "TverskyLoss",
    "LovaszLoss",
    "SoftTargetCrossEntropy",
    "LabelSmoothingCrossEntropy",
}
SOFTMAX = {"softmax", "Softmax"}


def loss_callables(project: Project, shorts: set[str]) -> dict[str, Call]:
    """Names bound to loss objects (``self.criterion = nn.CrossEntropyLoss()``) -> the constructor call."""
    out: dict[str, Call] = {}
    for call in project.calls:
        if call.short in shorts and call.short[:1].isupper() and call.target:
            out[call.target] = call
    return out


def loss_applications(project: Project, shorts: set[str]) -> list[tuple[Call, str]]:
    """Calls that compute one of the losses: functional calls, loss objects, ``nn.X()(a, b)``."""
    named = loss_callables(project, shorts)
    out: list[tuple[Call, str]] = []
    for call in project.calls:
        if call.short in shorts and call.short[:1].islower():
            out.append((call, call.short))
        elif call.raw in named:
            out.append((call, named[call.raw].short))
        elif isinstance(call.node.func, cst.Call):
            inner = raw_name(call.node.func.func).rsplit(".", 1)[-1]
            if inner in shorts:
                out.append((call, inner))
    return out


def softmax_input(file: FileIndex, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """The tensor fed to softmax when ``node`` is ``F.softmax(x, ...)`` / ``x.softmax(...)`` / ``nn.Softmax(...)(x)``."""
    if not isinstance(node, cst.Call):
        return None
    name = raw_name(node.func).rsplit(".", 1)[-1]
    if isinstance(node.func, cst.Call) and raw_name(node.func.func).rsplit(".", 1)[-1] == "Softmax":
        return node.args[0].value if node.args else None
    if name != "softmax":
        return None
    if isinstance(node.func, cst.Attribute):
        receiver = raw_name(node.func.value)
        functional = receiver in {"F", "torch", "nn.functional", "torch.nn.functional", "functional"}
        if not functional and file.resolve(receiver)[1] is False:
            return node.func.value  # x.softmax(dim=1)
    return node.args[0].value if node.args else None


DETECTION_MODELS = re.compile(r"^(fasterrcnn|retinanet|maskrcnn|keypointrcnn|ssd|ssdlite|fcos)\w*$")


def yaml_loss_targets(project: Project) -> list[tuple[str, str]]:
    """(loss class, evidence) for losses configured as Hydra ``_target_`` entries."""
    out = []
    for doc in project.yamls:
        for target, mapping in doc.targets():
            short = target.rsplit(".", 1)[-1]
            if short in LOSSES or short.endswith("Loss"):
                out.append((short, f"{doc.path}:{mapping.line}: _target_: {target}"))
    return out


class SoftmaxBeforeCrossEntropy(PrimaryRule):
    """Softmax is applied before ``CrossEntropyLoss`` / ``F.cross_entropy``.

    Cross-entropy applies log-softmax itself; feeding it probabilities squashes the logits twice, which
    shrinks the gradients and slows or stalls training while still looking plausible. Pass the raw logits;
    keep softmax for inference/metrics only. The fix drops an inline softmax call; a softmax that
    ``forward()`` returns moves out of it: ``forward`` returns the logits, other callers of the model
    (metrics, ``predict_step``, inference code) get ``.softmax(dim=...)`` so they still see probabilities,
    and a LightningModule without ``predict_step`` gets one returning the probabilities. A model exported
    after the fix (ONNX, TorchScript) outputs logits too: apply softmax to its output where probabilities
    are needed.
    """

    code = "MLR014"
    name = "softmax-before-cross-entropy"
    checklist = "loss-function"
    severity = "error"
    message = "Softmax applied before cross-entropy (it expects raw logits)"
    suggestion = "Pass the raw logits to CrossEntropyLoss/F.cross_entropy; use softmax only for predictions."
    fixable = True
    VALID = [
        "import torch.nn.functional as F\nloss = F.cross_entropy(logits, y)\nprobs = F.softmax(logits, dim=1)\n",
    ]
    INVALID = [
        "import torch.nn.functional as F\nloss = F.cross_entropy(F.softmax(logits, dim=1), y)\n",
        (
            "import torch\nimport torch.nn as nn\ncriterion = nn.CrossEntropyLoss()\n"
            "probs = torch.softmax(model(x), dim=-1)\nloss = criterion(probs, y)\n"
        ),
        (
            "import lightning as L\nimport torch.nn.functional as F\nclass M(L.LightningModule):\n"
            "    def forward(self, x):\n        return self.net(x).softmax(dim=-1)\n"
            "    def training_step(self, batch, i):\n        x, y = batch\n        out = self(x)\n"
            "        return F.cross_entropy(out, y)\n"
        ),
    ]

    @staticmethod
    def _forward_softmax(project: Project, call: Call) -> str | None:
        """The softmax a LightningModule's ``forward`` returns, when ``call`` sits in one of its methods."""
        if call.cls is None:
            return None
        forward = project.method(call.cls, "forward")
        if forward is None:
            return None
        file = project.class_file(call.cls)
        for ret in find_all(forward.node, cst.Return):
            value = ret.value
            if value is not None and softmax_input(file, value) is not None:
                return file.code(value, 50)
        return None

    def _fed_from_forward(self, project: Project, call: Call, first: cst.BaseExpression) -> bool:
        def calls_self(node: cst.BaseExpression) -> bool:
            return isinstance(node, cst.Call) and raw_name(node.func) in {"self", "self.forward"}

        # Anywhere inside the argument: ``out.flatten(2)`` / ``out.view(-1, C)`` is still forward()'s output.
        if any(calls_self(c) for c in find_all(first, cst.Call)):
            return True
        names = {n.value for n in find_all(first, cst.Name)}
        return any(calls_self(v) for name in names for v in project.assigned_values(name, call.func))

    def check(self, project: Project) -> Iterable[Hit]:
        applications = loss_applications(project, {"CrossEntropyLoss", "cross_entropy"})
        moved: set[int] = set()  # classes whose forward-softmax fix was already attached to a finding
        for call, _ in applications:
            first = call.positional(0)
            if first is None:
                continue
            src = softmax_input(call.file, first)
            if src is not None:
                direct = Fix(call.file.path, [Edit(first, replace=replace_with(src))])
                yield self.at(call.file, first, f"{call.code(70)} receives softmax output", fix=direct)
                continue
            name = raw_name(first)
            if name and isinstance(first, cst.Name):
                for value in project.assigned_values(name, call.func):
                    src = softmax_input(call.file, value)
                    if src is not None:
                        fix: Fix | None = None
                        if isinstance(src, cst.Name):
                            fix = Fix(call.file.path, [Edit(first, replace=replace_with(src))])
                        yield self.at(
                            call.file,
                            first,
                            f"{call.code(70)} receives {name} = {call.file.code(value, 50)}",
                            fix=fix,
                        )
                        break
            returned = self._forward_softmax(project, call)
            if returned is not None and self._fed_from_forward(project, call, first):
                forward = project.method(call.cls, "forward") if call.cls is not None else None
                fix = None
                if call.cls is not None and forward is not None and id(call.cls) not in moved:
                    moved.add(id(call.cls))
                    fix = forward_softmax_fix(project, call.cls, forward, [c for c, _ in applications])
                yield self.at(
                    call.file,
                    first,
                    f"{call.code(70)} receives forward()'s output, which returns {returned}",
                    fix=fix,
                )

    def judge(self, project: Project) -> tuple[Status, str]:
        applied = loss_applications(project, LOSSES)
        if applied:
            call, short = applied[0]
            return "pass", f"{short}: {call.code(60)} at {call.where()}"
        ctors = [c for c in project.calls if c.short in LOSSES]
        if ctors:
            return "pass", f"{ctors[0].code(60)} at {ctors[0].where()}"
        yaml_losses = yaml_loss_targets(project)
        if yaml_losses:
            return "pass", yaml_losses[0][1]
        detection = [c for c in project.calls if DETECTION_MODELS.match(c.short)]
        if detection:
            return (
                "pass",
                f"{detection[0].code(50)} computes its own detection losses ({detection[0].where()})",
            )
        external = project.external_model
        if external:
            return "unknown", external
        steps = [
            m for cls in project.lightning_modules if (m := project.method(cls, "training_step")) is not None
        ]
        if steps or project.backward_calls:
            return "unknown", "the loss is computed by code not in the reviewed files"
        return "not_applicable", "no loss computation in the reviewed code"
