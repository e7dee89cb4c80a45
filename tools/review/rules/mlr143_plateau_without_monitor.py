"""MLR143: plateau without monitor."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.scheduler_config import LM, returned_dict_keys


class PlateauWithoutMonitor(Rule):
    """``ReduceLROnPlateau`` is returned without a ``monitor`` key.

    Lightning needs to know which logged metric the plateau scheduler watches; without ``"monitor"`` in the
    scheduler config it raises at the end of the first epoch (after a full epoch of compute).
    """

    code = "MLR143"
    name = "plateau-without-monitor"
    checklist = "lr-scheduler"
    severity = "error"
    message = "ReduceLROnPlateau without a monitor"
    suggestion = 'Return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/loss"}}.'
    VALID = [
        LM + "        opt = torch.optim.AdamW(self.parameters())\n"
        "        s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)\n"
        "        return {'optimizer': opt, 'lr_scheduler': {'scheduler': s, 'monitor': 'val/loss'}}\n"
    ]
    INVALID = [
        LM + "        opt = torch.optim.AdamW(self.parameters())\n"
        "        s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)\n"
        "        return {'optimizer': opt, 'lr_scheduler': s}\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls_named("ReduceLROnPlateau"):
            if call.func is None or call.func.name != "configure_optimizers":
                continue
            if "monitor" not in returned_dict_keys(call.func, project):
                yield self.at(call.file, call.node, "ReduceLROnPlateau is returned without a 'monitor' key")
