"""MLR142: the learning rate suits fine-tuning a pretrained backbone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import libcst as cst

from tools.review.index import MISSING, Call, literal
from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.common import ADAPTIVE_OPTIMIZERS, OPTIMIZERS, resolve_number

# Policy (bench/review_corpus/README.md): fine-tuning fails at Adam-style lr >= 1e-2 or SGD lr >= 0.1.
ADAPTIVE_MAX = 1e-2
SGD_MAX = 1e-1


def pretrained_calls(project: Project) -> list[Call]:
    """Calls that load pretrained weights (torchvision weights=, pretrained=True, timm, HF, hub)."""
    out = []
    for c in project.calls:
        if c.short in {"from_pretrained"} or c.name == "torch.hub.load":
            out.append(c)
            continue
        pre = c.kw_value("pretrained")
        if pre is True:
            out.append(c)
            continue
        for key in ("weights", "encoder_weights", "weights_backbone"):
            arg = c.kw(key)
            if arg is None:
                continue
            value = literal(arg.value)
            if value is MISSING:
                code = c.file.code(arg.value)
                if "Weights" in code or "DEFAULT" in code or "IMAGENET" in code:
                    out.append(c)
            elif value not in (None, False, ""):
                out.append(c)
    return out


def _frozen(project: Project) -> bool:
    return any(
        c.short in {"requires_grad_", "freeze", "freeze_backbone"} and c.kw_value("requires_grad") is not True
        for c in project.calls
    ) or any(
        a.target.endswith("requires_grad") and literal(a.value) is False
        for f in project.files
        for a in f.assignments
    )


class HighFinetuneLr(Rule):
    """The learning rate is too high for fine-tuning a pretrained backbone.

    Pretrained features are destroyed by large updates in the first steps ("catastrophic forgetting"):
    fine-tuning wants roughly 1e-4..1e-3 for Adam-style optimizers and at most 1e-2 for SGD, ideally lower
    for the backbone than for the new head (parameter groups) plus a warm-up. Only literal values (or names
    whose only visible value is a literal) are judged; frozen backbones are not flagged. Flagged from
    ``lr >= 1e-2`` (Adam-style) or ``lr >= 0.1`` (SGD): clearly destructive values, not a matter of taste.
    """

    code = "MLR142"
    name = "high-finetune-lr"
    checklist = "lr-scheduler"
    severity = "warning"
    message = "Learning rate too high for fine-tuning a pretrained backbone"
    suggestion = (
        "Use lr<=1e-3 for Adam/AdamW (1e-4 is a good start) or <=1e-2 for SGD, with a lower LR for the backbone "
        "than for the head and a warm-up."
    )
    VALID = [
        (
            "import torch, torchvision\nm = torchvision.models.resnet50(weights='IMAGENET1K_V2')\n"
            "opt = torch.optim.AdamW(m.parameters(), lr=1e-4)\n"
        ),
        "import torch\nm = Net()\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\n",
    ]
    INVALID = [
        (
            "import torch, torchvision\nm = torchvision.models.resnet50(pretrained=True)\n"
            "opt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
        ),
        (
            "import timm, torch\nclass M:\n    def __init__(self, lr: float = 0.01):\n"
            "        self.net = timm.create_model('resnet18', pretrained=True)\n"
            "    def configure_optimizers(self):\n"
            "        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        pretrained = pretrained_calls(project)
        if not pretrained or _frozen(project):
            return
        source = pretrained[0]
        for call in project.calls:
            if call.short not in OPTIMIZERS or (
                call.resolved and "optim" not in call.name and "timm" not in call.name
            ):
                continue
            lr = self._lr(project, call)
            if lr is MISSING or not isinstance(lr, int | float):
                continue
            limit = ADAPTIVE_MAX if call.short in ADAPTIVE_OPTIMIZERS else SGD_MAX
            if lr >= limit:
                yield self.at(
                    call.file,
                    call.kw("lr") or call.node,
                    f"{call.short} lr={lr:g} fine-tunes the pretrained {source.code(50)} "
                    f"({source.where()}); {limit:g} or more wrecks pretrained features",
                )

    @staticmethod
    def _lr(project: Project, call: Call) -> Any:
        groups = call.positional(0)
        if isinstance(groups, cst.List):
            lrs = []
            for el in groups.elements:
                if isinstance(el.value, cst.Dict):
                    for item in el.value.elements:
                        if isinstance(item, cst.DictElement) and literal(item.key) == "lr":
                            lrs.append(resolve_number(project, item.value, call.func))
            known = [v for v in lrs if isinstance(v, int | float)]
            if known:
                return min(known)
        arg = call.kw("lr")
        if arg is None:
            arg_node = call.positional(1)
            return MISSING if arg_node is None else resolve_number(project, arg_node, call.func)
        return resolve_number(project, arg.value, call.func)
