"""MLR108: device calls in step."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import STEP_METHODS, Project
from tools.review.rules.base import Hit, Rule

LM = "import lightning as L\nclass M(L.LightningModule):\n"


class DeviceCallsInStep(Rule):
    """A ``*_step`` moves tensors with ``.cuda()`` / ``.to("cuda")``.

    Lightning already puts the batch on the module's device. Hard-coded CUDA calls break CPU/MPS runs and
    multi-GPU runs (every rank moves to ``cuda:0``); use ``self.device`` or ``type_as`` for new tensors.
    """

    code = "MLR108"
    name = "device-calls-in-step"
    checklist = "lightning-module"
    severity = "error"
    message = "Hard-coded .cuda()/.to('cuda') inside a step"
    suggestion = "Remove the device moves (Lightning moves the batch); create new tensors on self.device."
    VALID = [LM + "    def training_step(self, b, i):\n        z = torch.zeros(3, device=self.device)\n"]
    INVALID = [
        LM + "    def training_step(self, b, i):\n        x = b[0].cuda()\n",
        LM + "    def validation_step(self, b, i):\n        x = b[0].to('cuda')\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            for name in STEP_METHODS:
                method = cls.methods.get(name)
                if method is None:
                    continue
                for call in method.calls:
                    hard = call.short == "cuda" or (
                        call.short == "to" and "cuda" in call.file.code(call.positional(0) or call.node, 200)
                    )
                    if hard and call.short in {"cuda", "to"}:
                        yield self.at(call.file, call.node, f"{call.code(50)} in {cls.name}.{name}")
