"""MLR004: logged metric keys carry a train/, val/ or test/ prefix."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, PrimaryRule, renamed_string
from tools.review.rules.common import prefix_of

STEP_COUNTERS = {"epoch", "step", "global_step", "trainer/global_step", "iteration", "iter"}
STAGE_OF_HOOK = {
    "training_step": "train",
    "on_train_epoch_end": "train",
    "on_train_batch_end": "train",
    "validation_step": "val",
    "on_validation_epoch_end": "val",
    "test_step": "test",
    "on_test_epoch_end": "test",
}


def dominant_separator(project: Project) -> str:
    keys, _ = project.logged_keys
    seps = [p[1] for k, _, _ in keys if (p := prefix_of(k)) is not None]
    return "_" if seps and seps.count("_") > seps.count("/") else "/"


class LogKeyWithoutPrefix(PrimaryRule):
    """A logged metric has no ``train/``, ``val/`` or ``test/`` prefix.

    Unprefixed keys (``"loss"``, ``"acc"``) mix stages on one chart, make ``monitor=`` ambiguous and break
    dashboards that group by stage. ``train_loss`` style is accepted too, as long as one style is used
    (MLR132). The fix prefixes the key by the hook it is logged from (``training_step`` -> ``train``), unless
    a callback already monitors the old key.
    """

    code = "MLR004"
    name = "log-key-without-prefix"
    checklist = "metric-prefixes"
    severity = "warning"
    message = "Logged metric without a train/, val/ or test/ prefix"
    suggestion = 'Prefix the key with its stage: self.log("train/loss", loss), self.log("val/acc", acc).'
    fixable = True
    VALID = [
        (
            "import lightning as L\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n"
            "        self.log('train/loss', 1.0)\n        self.log('train_acc', 1.0)\n"
        ),
        "import lightning as L\nclass M(L.LightningModule):\n    def on_train_epoch_end(self):\n        self.log(name, 1.0)\n",
    ]
    INVALID = [
        (
            "import lightning as L\nclass M(L.LightningModule):\n    def validation_step(self, b, i):\n"
            "        self.log('loss', 1.0)\n"
        ),
        (
            "import lightning as L\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n"
            "        self.log_dict({'loss': 1.0, 'acc': 2.0})\n"
        ),
        "from torch.utils.tensorboard import SummaryWriter\nw = SummaryWriter()\nw.add_scalar('loss', 1.0, 0)\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        keys, _ = project.logged_keys
        sep = dominant_separator(project)
        monitored = {value for f in project.files for _, value in f.strings}
        for key, call, node in keys:
            if (
                prefix_of(key) is not None
                or key.split("/")[0] in STEP_COUNTERS
                or key.startswith(("lr", "hp_metric"))
            ):
                continue
            stage = STAGE_OF_HOOK.get(call.func.name) if call.func else None
            fix = None
            if stage and isinstance(node, cst.SimpleString) and sum(1 for v in monitored if v == key) <= 1:
                new_key = f"{stage}{sep}{key}"
                fix = Fix(
                    call.file.path,
                    [
                        Edit(
                            node,
                            replace=renamed_string(node, new_key),
                        )
                    ],
                )
            yield self.at(
                call.file, node, f"Metric {key!r} is logged without a stage prefix", fix=fix, within=call.node
            )

    def judge(self, project: Project) -> tuple[Status, str]:
        keys, dynamic = project.logged_keys
        if keys:
            _key, call, node = keys[0]
            return "pass", f"{call.code(60)} at {call.file.path}:{call.file.line(node)}"
        if dynamic:
            return "unknown", "metric keys are computed at run time"
        if project.log_calls:
            call = project.log_calls[0]
            return "pass", f"{call.code(60)} at {call.where()} (stage taken from the key's placeholder)"
        if any(project.has_foreign_base(c) for c in project.lightning_modules):
            return "unknown", "the logging steps live in a base class that was not given"
        if project.has_model or project.has_run:
            return "unknown", "no metric logging is visible in the reviewed code"
        return "not_applicable", "no model or training run in the reviewed code"
