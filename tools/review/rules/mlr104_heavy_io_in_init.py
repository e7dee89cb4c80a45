"""MLR104: heavy io in init."""

from __future__ import annotations

from collections.abc import Iterable

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
        + "import torch\nclass M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = torch.hub.load('pytorch/vision', 'resnet18')\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            init = cls.methods.get("__init__")
            if init is None:
                continue
            for call in init.calls:
                if call.name in HEAVY or call.kw_value("download") is True:
                    yield self.at(call.file, call.node, f"{call.code(60)} in {cls.name}.__init__")
