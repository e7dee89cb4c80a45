"""MLR102: lightning module without metrics."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import STEP_METHODS, Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.structure import LM, local_lms


class NoMetrics(Rule):
    """A LightningModule logs nothing.

    A module whose steps never call ``self.log`` trains blind: no loss curve, no validation metric for
    checkpointing or early stopping, nothing for the experiment tracker. Log the loss in ``training_step``
    and at least one metric (torchmetrics) in ``validation_step``.
    """

    code = "MLR102"
    name = "lightning-module-without-metrics"
    checklist = "metric-prefixes"
    severity = "warning"
    message = "LightningModule logs no metrics"
    suggestion = 'Log the loss and a torchmetrics metric: self.log("train/loss", loss); self.log("val/acc", self.val_acc).'
    VALID = [
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        loss = self(b)\n        self.log('train/loss', loss)\n        return loss\n"
    ]
    INVALID = [
        LM + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        return self(b)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.backward_calls and not project.lightning_modules and not project.log_calls:
            call = project.backward_calls[0]
            yield self.at(
                call.file, call.loops[0], "The training loop logs no metric (printing is not logging)"
            )
        for cls in local_lms(project):
            if project.method(cls, "training_step") is None:
                continue
            logs = False
            for name in [*cls.methods, *STEP_METHODS]:
                method = project.method(cls, name)
                if method is not None and any(
                    c.short in {"log", "log_dict"} and c.receiver.startswith("self") for c in method.calls
                ):
                    logs = True
                    break
            if not logs:
                yield self.at(project.class_file(cls), cls.node.name, f"{cls.name} never calls self.log")
