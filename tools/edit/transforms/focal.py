"""Cross-entropy -> focal loss: softmax focal loss for single-label, sigmoid focal loss for binary/multi-label.

Single-label (``nn.CrossEntropyLoss`` / ``F.cross_entropy``) gets a small ``FocalLoss`` module and
``softmax_focal_loss`` function added to the file: same shapes as cross-entropy (logits ``(N, C)`` or
``(N, C, d1, ...)``, class-index targets ``(N)`` or ``(N, d1, ...)``), ``weight``/``ignore_index``/``reduction``
kept. Binary and multi-label (``nn.BCEWithLogitsLoss`` / ``F.binary_cross_entropy_with_logits``) use
``torchvision.ops.sigmoid_focal_loss`` (targets the same shape as the logits, as for BCE).
"""

from __future__ import annotations

import re

import libcst as cst

from tools.edit.models import FocalLossEdit
from tools.edit.source import CallSite, Project, SourceFile
from tools.edit.transforms.common import Outcome, insert_above
from tools.review.rules.base import Edit, Fix, replace_with

SOFTMAX_HELPERS = '''
def softmax_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss (Lin et al., 2017): cross-entropy scaled by (1 - p_t) ** gamma; gamma=0 is cross-entropy.

    Shapes as for F.cross_entropy: logits (N, C) or (N, C, d1, ...), class-index targets (N) or (N, d1, ...).
    """
    log_p = torch.nn.functional.log_softmax(logits, dim=1)
    ce = torch.nn.functional.nll_loss(log_p, target, weight=weight, ignore_index=ignore_index, reduction="none")
    log_pt = -torch.nn.functional.nll_loss(log_p, target, ignore_index=ignore_index, reduction="none")
    loss = (1.0 - log_pt.exp()).pow(gamma) * ce
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    valid = target != ignore_index
    if weight is None:
        denom = valid.sum().to(loss.dtype)
    else:
        denom = (weight[torch.where(valid, target, torch.zeros_like(target))] * valid).sum().to(loss.dtype)
    return loss.sum() / denom.clamp(min=1e-12)


class FocalLoss(torch.nn.Module):
    """Softmax focal loss as a module, a drop-in for nn.CrossEntropyLoss (see softmax_focal_loss)."""

    def __init__(
        self,
        gamma: float = 2.0,
        weight: torch.Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.gamma = gamma
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(logits, target, self.gamma, self.weight, self.ignore_index, self.reduction)
'''

SIGMOID_HELPER = '''
class SigmoidFocalLoss(torch.nn.Module):
    """Sigmoid focal loss for binary / multi-label targets (torchvision.ops.sigmoid_focal_loss), a drop-in for
    nn.BCEWithLogitsLoss: targets have the logits' shape. alpha weights the positives (-1 turns it off)."""

    def __init__(self, gamma: float = 2.0, alpha: float = 0.25, reduction: str = "mean") -> None:
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return sigmoid_focal_loss(logits, target.to(logits.dtype), self.alpha, self.gamma, self.reduction)
'''

_CE_KEEP = ("weight", "ignore_index", "reduction")
_BCE_KEEP = ("reduction",)


def _kind(f: SourceFile, site: CallSite) -> str | None:
    qual = site.qual
    short = qual.split(".")[-1]
    torchish = qual.startswith("torch.") or "." not in qual or qual.split(".")[0] in ("nn", "F")
    if not torchish:
        return None
    return {
        "CrossEntropyLoss": "ce_module",
        "cross_entropy": "ce_fn",
        "BCEWithLogitsLoss": "bce_module",
        "binary_cross_entropy_with_logits": "bce_fn",
    }.get(short)


def _kwargs(
    f: SourceFile, call: cst.Call, keep: tuple[str, ...], skip_positional: int
) -> tuple[list[str], list[str]]:
    kept: list[str] = []
    dropped: list[str] = []
    for i, arg in enumerate(call.args):
        if arg.keyword is None:
            if i >= skip_positional:
                dropped.append(f.code(arg.value))
            continue
        name = arg.keyword.value
        (kept if name in keep else dropped).append(f"{name}={f.code(arg.value)}")
    return kept, dropped


def focal_loss(spec: FocalLossEdit, project: Project) -> Outcome:
    out = Outcome()
    g = repr(float(spec.gamma))
    found = False
    for f in project.files.values():
        sites = [(s, k) for s in f.calls if (k := _kind(f, s)) is not None]
        if not sites:
            continue
        found = True
        need_softmax = need_sigmoid = False
        for site, kind in sites:
            call = site.node
            if kind == "ce_module":
                kept, dropped = _kwargs(f, call, _CE_KEEP, 0)
                new = f"FocalLoss(gamma={g}" + "".join(f", {k}" for k in kept) + ")"
                need_softmax = True
            elif kind == "ce_fn":
                if len([a for a in call.args if a.keyword is None]) < 2:
                    out.skipped.append(
                        f"focal loss: {f.where(call)}: {f.code(call)} does not pass logits and targets positionally"
                    )
                    continue
                kept, dropped = _kwargs(f, call, _CE_KEEP, 2)
                pos = [f.code(a.value) for a in call.args if a.keyword is None][:2]
                first = call.args[0].value
                if (
                    isinstance(first, cst.Call)
                    and first.args
                    and f.qualify(first.func).split(".")[-1] == "softmax"
                ):
                    pos[0] = f.code(first.args[0].value)
                    dropped.append(f"the {f.code(first.func)}(...) around the logits: the loss applies it")
                new = (
                    f"softmax_focal_loss({pos[0]}, {pos[1]}, gamma={g}"
                    + "".join(f", {k}" for k in kept)
                    + ")"
                )
                need_softmax = True
            elif kind == "bce_module":
                kept, dropped = _kwargs(f, call, _BCE_KEEP, 0)
                new = f"SigmoidFocalLoss(gamma={g}" + "".join(f", {k}" for k in kept) + ")"
                need_sigmoid = True
            else:
                if len([a for a in call.args if a.keyword is None]) < 2:
                    out.skipped.append(
                        f"focal loss: {f.where(call)}: {f.code(call)} does not pass logits and targets positionally"
                    )
                    continue
                kept, dropped = _kwargs(f, call, _BCE_KEEP, 2)
                pos = [f.code(a.value) for a in call.args if a.keyword is None][:2]
                reduction = next((k for k in kept if k.startswith("reduction=")), 'reduction="mean"')
                new = f"sigmoid_focal_loss({pos[0]}, {pos[1]}.to({pos[0]}.dtype), gamma={g}, {reduction})"
                need_sigmoid = True
            out.edit(f.path, Edit(call, replace=replace_with(cst.parse_expression(new))))
            note = f" (dropped {', '.join(dropped)})" if dropped else ""
            out.applied.append(f"{f.where(call)}: {f.code(call.func)}(...) -> {new}{note}")
        anchor = _helper_anchor(f)
        helpers = (SOFTMAX_HELPERS if need_softmax and "def softmax_focal_loss" not in f.text else "") + (
            SIGMOID_HELPER if need_sigmoid and "class SigmoidFocalLoss" not in f.text else ""
        )
        imports: list[tuple[str, str | None, str | None]] = [("torch", None, None)]
        if need_sigmoid:
            imports.append(("torchvision.ops", "sigmoid_focal_loss", None))
        if helpers and anchor is not None:
            out.edit(f.path, insert_above(f.module, anchor, helpers), imports)
            names = [
                n
                for n, need in (
                    ("softmax_focal_loss/FocalLoss", need_softmax),
                    ("SigmoidFocalLoss", need_sigmoid),
                )
                if need
            ]
            out.applied.append(f"{f.where(anchor)}: added {' and '.join(names)} above this line")
        else:
            out.fixes.append(Fix(f.path, [], imports))
    if not found:
        out.skipped.append(
            "focal loss: no nn.CrossEntropyLoss / F.cross_entropy / BCEWithLogitsLoss found to replace"
        )
    elif any(re.search(r"\bsoftmax_focal_loss\(|\bFocalLoss\(", a) for a in out.applied):
        out.applied.append(
            f"focal loss down-weights easy examples (gamma={g}); single-label targets must be class indices, "
            "not one-hot or soft labels (mixup/cutmix need a soft-label loss instead)"
        )
    return out


def _helper_anchor(f: SourceFile) -> cst.BaseStatement | None:
    """The first top-level class or function (helpers go above it, below the imports and constants)."""
    for stmt in f.module.body:
        if isinstance(stmt, cst.ClassDef | cst.FunctionDef):
            return stmt
    for stmt in f.module.body:
        if not (
            isinstance(stmt, cst.SimpleStatementLine)
            and all(isinstance(s, cst.Import | cst.ImportFrom | cst.Expr) for s in stmt.body)
        ):
            return stmt
    return None
