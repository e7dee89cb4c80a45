"""MLR104: heavy io in init."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.index import Call
from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.structure import HEAVY, LM


class HeavyIoInInit(Rule):
    """``__init__`` of a LightningModule downloads or loads files (``torch.hub.load``, ``torch.load``, URLs).

    ``__init__`` runs in every process (each DDP rank, each ``load_from_checkpoint``, each test), so downloads
    race and repeat, and ``torch.load`` of a full checkpoint there is overwritten by the checkpoint being
    restored anyway. Download in ``DataModule.prepare_data`` or a script; load weights in ``setup`` or pass
    a built backbone in.
    """

    code = "MLR104"
    name = "heavy-io-in-init"
    checklist = ""
    severity = "warning"
    message = "Downloads/file loading in LightningModule.__init__"
    suggestion = "Download once in prepare_data (or a script) and load weights in setup(), or pass the built network in."
    VALID = [
        LM
        + "import torchvision\nclass M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = torchvision.models.resnet18(weights=None)\n"
    ]
    INVALID = [
        LM
        + "import torch\nclass M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = torch.hub.load('pytorch/vision', 'resnet18')\n",
        LM
        + "import torch\ndef load_backbone():\n    return torch.hub.load('facebookresearch/dinov2', 'dinov2_vits14')\n"
        "class M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = load_backbone()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            init = cls.methods.get("__init__")
            if init is None:
                continue
            helpers = {fn.name: fn for f in project.files for fn in f.functions if fn.cls is None}
            for call in init.calls:
                if _heavy(call):
                    yield self.at(call.file, call.node, f"{call.code(60)} in {cls.name}.__init__")
                    continue
                # One hop through a project helper: self.backbone = load_backbone() -> torch.hub.load(...)
                helper = helpers.get(call.short) if call.short == call.raw else None
                inner = next((c for c in helper.calls if _heavy(c)), None) if helper is not None else None
                if inner is not None:
                    yield self.at(
                        call.file,
                        call.node,
                        f"{call.code(40)} in {cls.name}.__init__ runs {inner.code(50)} ({inner.where()})",
                    )


def _heavy(call: Call) -> bool:
    """A download or file load: torch.hub.load, torch.load, from_pretrained, ..., or download=True."""
    if call.name in HEAVY or call.kw_value("download") is True:
        return True
    return call.short == "create_model" and call.kw_value("pretrained") is True
