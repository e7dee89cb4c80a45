"""MLR141: per step scheduler stepped per epoch."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.common import PER_STEP_SCHEDULERS
from tools.review.rules.scheduler_config import LM, returned_dict_keys


class PerStepSchedulerPerEpoch(Rule):
    """A per-step scheduler (OneCycleLR, CyclicLR, warm-up schedules) is stepped once per epoch.

    Lightning steps a scheduler returned from ``configure_optimizers`` once per *epoch* unless its config says
    ``"interval": "step"``. OneCycleLR sized with ``total_steps``/``steps_per_epoch`` then barely leaves its
    warm-up, and training runs the whole time at a tiny learning rate. The same happens in hand-written loops
    that call ``scheduler.step()`` outside the batch loop.
    """

    code = "MLR141"
    name = "per-step-scheduler-stepped-per-epoch"
    checklist = "lr-scheduler"
    severity = "error"
    message = "Per-step LR scheduler stepped once per epoch"
    suggestion = 'Return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}.'
    VALID = [
        LM + "        opt = torch.optim.AdamW(self.parameters())\n"
        "        s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=1000)\n"
        "        return {'optimizer': opt, 'lr_scheduler': {'scheduler': s, 'interval': 'step'}}\n"
    ]
    INVALID = [
        LM + "        opt = torch.optim.AdamW(self.parameters())\n"
        "        s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=1000)\n"
        "        return [opt], [s]\n",
        "import torch\nsched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100)\n"
        "for epoch in range(10):\n    for x in loader:\n        loss = model(x)\n        loss.backward()\n"
        "        opt.step()\n    sched.step()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.short not in PER_STEP_SCHEDULERS:
                continue
            if call.func is not None and call.func.name == "configure_optimizers":
                keys = returned_dict_keys(call.func, project)
                interval = keys.get("interval")
                if isinstance(interval, cst.SimpleString) and interval.evaluated_value == "step":
                    continue
                if interval is not None and not isinstance(interval, cst.SimpleString):
                    continue
                yield self.at(
                    call.file, call.node, f"{call.short} is stepped per epoch (no 'interval': 'step')"
                )
            elif call.target:
                steps = [c for c in project.calls if c.raw == f"{call.target}.step" and c.func is call.func]
                opt_steps = [
                    c
                    for c in project.calls
                    if c.short == "step"
                    and c.func is call.func
                    and c.raw != f"{call.target}.step"
                    and c.loops
                ]
                for s in steps:
                    inner = opt_steps[0].loops if opt_steps else ()
                    if inner and len(s.loops) < len(inner):
                        yield self.at(
                            s.file, s.node, f"{call.short}.step() runs in the epoch loop, not per batch"
                        )
