"""MLR108-MLR109: LightningModule hooks that Lightning relies on."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import STEP_METHODS, Project
from tools.review.rules.base import Hit, Rule

_LM = "import lightning as L\nclass M(L.LightningModule):\n"


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
    VALID = [_LM + "    def training_step(self, b, i):\n        z = torch.zeros(3, device=self.device)\n"]
    INVALID = [
        _LM + "    def training_step(self, b, i):\n        x = b[0].cuda()\n",
        _LM + "    def validation_step(self, b, i):\n        x = b[0].to('cuda')\n",
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


class MissingModuleHook(Rule):
    """A LightningModule lacks ``training_step`` or ``configure_optimizers``.

    ``Trainer.fit`` raises for a module without ``training_step``; without ``configure_optimizers`` Lightning
    warns and trains nothing (no optimizer steps) unless an optimizer comes from LightningCLI. Hooks inherited
    from a base class that was not reviewed are not judged.
    """

    code = "MLR109"
    name = "missing-module-hook"
    checklist = "lightning-module"
    severity = "error"
    message = "LightningModule without training_step/configure_optimizers"
    suggestion = "Define training_step (returning the loss) and configure_optimizers (optimizer + scheduler)."
    VALID = [
        _LM + "    def training_step(self, b, i):\n        return self(b)\n"
        "    def configure_optimizers(self):\n        return torch.optim.Adam(self.parameters())\n"
    ]
    INVALID = [_LM + "    def training_step(self, b, i):\n        return self(b)\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.cli_calls:
            return
        for cls in project.lightning_modules:
            if project.has_foreign_base(cls):
                continue
            missing = [h for h in ("training_step", "configure_optimizers") if project.method(cls, h) is None]
            if missing and any(project.method(cls, h) for h in (*STEP_METHODS, "forward", "__init__")):
                file = project.class_file(cls)
                yield self.at(file, cls.node.name, f"{cls.name} defines no {' / '.join(missing)}")
