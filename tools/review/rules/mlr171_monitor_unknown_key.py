"""MLR171: monitor unknown key."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.monitors import LM, monitor_problems


class MonitorUnknownKey(Rule):
    """A callback's ``monitor=`` names a metric that is never logged.

    ``ModelCheckpoint``/``EarlyStopping`` look the key up in the logged metrics; a typo
    or a prefix mismatch (``val_loss`` vs ``val/loss``) makes Lightning raise after the first validation
    epoch, or silently keep only the last checkpoint. Only judged when every logged key is a literal.
    """

    code = "MLR171"
    name = "monitor-unknown-key"
    checklist = "callbacks"
    severity = "error"
    message = "monitor names a metric that is never logged"
    suggestion = "Monitor a key the LightningModule logs (check prefixes: val/loss vs val_loss)."
    VALID = [LM + "cb = ModelCheckpoint(monitor='val/loss')\n"]
    INVALID = [
        LM + "cb = ModelCheckpoint(monitor='val_loss')\n",
        LM + "es = EarlyStopping(monitor='val/acc')\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for file, node, call, message in monitor_problems(project):
            if call is not None:  # scheduler-dict monitors are MLR144's (lr-scheduler item)
                yield self.at(file, node, message, within=call.node)
