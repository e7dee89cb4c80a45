"""MLR171: monitor unknown key."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.monitors import LM, monitor_sites


class MonitorUnknownKey(Rule):
    """A ``monitor=`` names a metric that is never logged.

    ``ModelCheckpoint``/``EarlyStopping``/``ReduceLROnPlateau`` look the key up in the logged metrics; a typo
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
        keys, dynamic = project.logged_keys
        if dynamic or not keys or any(project.has_foreign_base(c) for c in project.lightning_modules):
            return
        if not project.lightning_modules:
            return
        during_fit = {
            k
            for k, c, _ in keys
            if not (c.func is not None and c.func.name.startswith(("test_", "on_test_", "predict")))
        }
        test_only = {k for k, _, _ in keys} - during_fit
        logged = during_fit | {f"{k}_epoch" for k in during_fit} | {f"{k}_step" for k in during_fit}
        for file, key, node, call in monitor_sites(project):
            within = call.node if call is not None else None
            if key in test_only:
                yield self.at(
                    file,
                    node,
                    f"monitor={key!r} is only logged in test hooks, never during fit",
                    within=within,
                )
            elif key not in logged:
                near = [k for k in logged if k.replace("/", "_") == key.replace("/", "_")]
                hint = f" (logged: {near[0]!r})" if near else ""
                yield self.at(file, node, f"monitor={key!r} is never logged{hint}", within=within)
