"""MLR106: metric created in step."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import STEP_METHODS, Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.structure import LM, METRIC_ROOTS


class MetricCreatedInStep(Rule):
    """A torchmetrics object is created inside a ``*_step`` method.

    A metric built per batch never accumulates state across the epoch, is not moved to the device with the
    module, and is not reset/synced by Lightning in DDP. Create metrics in ``__init__`` (one per stage) and
    log the metric object itself.
    """

    code = "MLR106"
    name = "metric-created-in-step"
    checklist = "metric-prefixes"
    severity = "warning"
    message = "torchmetrics object created inside a step"
    suggestion = "Create the metric once in __init__ (self.val_acc = MulticlassAccuracy(num_classes)) and update/log it in the step."
    VALID = [
        LM
        + "from torchmetrics.classification import MulticlassAccuracy\nclass M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.acc = MulticlassAccuracy(10)\n"
    ]
    INVALID = [
        LM
        + "from torchmetrics.classification import MulticlassAccuracy\nclass M(L.LightningModule):\n    def validation_step(self, b, i):\n        acc = MulticlassAccuracy(10)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.func is None or call.func.name not in STEP_METHODS or not call.resolved:
                continue
            if (
                call.name.startswith(METRIC_ROOTS)
                and call.short[:1].isupper()
                and "functional" not in call.name
            ):
                yield self.at(call.file, call.node, f"{call.code(60)} is created in {call.func.name}")
