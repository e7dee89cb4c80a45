"""MLR201: deprecated torchvision pretrained= argument."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.index import MISSING
from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule, replace_with

#: The deprecated keyword -> its replacement in torchvision's multi-weight API (0.13+).
RENAMED = {"pretrained": "weights", "pretrained_backbone": "weights_backbone"}


class DeprecatedTorchvisionPretrained(Rule):
    """A torchvision model builder gets the deprecated ``pretrained=`` / ``pretrained_backbone=`` argument.

    torchvision 0.13 replaced them with ``weights=`` / ``weights_backbone=`` (a weights enum or its name); the
    old flags warn on every call and are slated for removal. ``pretrained=True`` meant one specific weight set
    per model (for classifiers ``IMAGENET1K_V1``, which is not always ``DEFAULT``), so that one is left to a
    person; ``pretrained=False`` becomes ``weights=None`` automatically (same behaviour). timm's
    ``create_model(pretrained=...)`` is current API and not flagged. The same check as TorchFix's TOR201.
    """

    code = "MLR201"
    name = "deprecated-torchvision-pretrained"
    checklist = ""
    severity = "warning"
    message = "Deprecated torchvision argument pretrained= (use weights=)"
    suggestion = (
        "Use weights=None for pretrained=False, and the weight set you mean for pretrained=True (e.g. "
        'weights="IMAGENET1K_V1", what pretrained=True loaded for classifiers, or weights="DEFAULT").'
    )
    fixable = True
    VALID = [
        "from torchvision.models import resnet18\nnet = resnet18(weights=None, num_classes=10)\n",
        'import timm\nnet = timm.create_model("resnet18", pretrained=False)\n',
    ]
    INVALID = [
        "from torchvision import models\nnet = models.resnet50(pretrained=True)\n",
        (
            "import torchvision\n"
            "det = torchvision.models.detection.fasterrcnn_resnet50_fpn(pretrained=False, "
            "pretrained_backbone=False, num_classes=3)\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if not call.name.startswith("torchvision.models."):
                continue
            for old, new in RENAMED.items():
                arg = call.kw(old)
                if arg is None:
                    continue
                fix = None
                if call.kw_value(old) is False and call.kw(new) is None:
                    # Renamed in place: the argument keeps its position and any comment beside it.
                    renamed = arg.with_changes(keyword=cst.Name(new), value=cst.Name("None"))
                    fix = Fix(call.file.path, [Edit(arg, replace=replace_with(renamed))])
                shown = call.file.code(arg.value, 30) if call.kw_value(old) is MISSING else call.kw_value(old)
                yield self.at(
                    call.file, arg, f"{call.short}({old}={shown}) is deprecated: use {new}=", fix=fix
                )
