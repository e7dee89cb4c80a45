"""MLR109: missing module hook."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import STEP_METHODS, Project
from tools.review.rules.base import Hit, Rule

LM = "import lightning as L\nclass M(L.LightningModule):\n"


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
        LM + "    def training_step(self, b, i):\n        return self(b)\n"
        "    def configure_optimizers(self):\n        return torch.optim.Adam(self.parameters())\n"
    ]
    INVALID = [LM + "    def training_step(self, b, i):\n        return self(b)\n"]

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
