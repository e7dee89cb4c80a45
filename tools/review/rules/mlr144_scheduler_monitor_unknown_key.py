"""MLR144: the LR scheduler monitors a key that is never logged."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.monitors import LM, monitor_problems

_PLATEAU = (
    "    def configure_optimizers(self):\n"
    "        opt = torch.optim.AdamW(self.parameters())\n"
    "        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)\n"
)


class SchedulerMonitorUnknownKey(Rule):
    """The ``monitor`` of an ``lr_scheduler`` config names a metric that is never logged.

    Lightning looks the key up after every validation epoch to step ``ReduceLROnPlateau``; a key that is
    never logged (``val/acc`` vs ``val_acc``) stops training with a MisconfigurationException, and a key only
    logged in test hooks never exists during fit. The schedule, not the callbacks, is what breaks.
    """

    code = "MLR144"
    name = "scheduler-monitor-unknown-key"
    checklist = "lr-scheduler"
    severity = "error"
    message = "the LR scheduler monitors a metric that is never logged"
    suggestion = (
        "Point the lr_scheduler 'monitor' at a key the module logs during validation (e.g. 'val/loss')."
    )
    VALID = [
        "import torch\n" + LM + _PLATEAU + "        return {'optimizer': opt, 'lr_scheduler': "
        "{'scheduler': sched, 'monitor': 'val/loss'}}\n"
    ]
    INVALID = [
        "import torch\n" + LM + _PLATEAU + "        return {'optimizer': opt, 'lr_scheduler': "
        "{'scheduler': sched, 'monitor': 'val_loss'}}\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for file, node, call, message in monitor_problems(project):
            if call is None:
                yield self.at(file, node, message)
