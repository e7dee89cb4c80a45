"""MLR134: one torchmetrics object per stage."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule

_STAGES = {"training_step": "train", "validation_step": "val", "test_step": "test"}


class SharedMetricObject(Rule):
    """One torchmetrics object is updated by more than one stage (train and val).

    A metric object accumulates state until it is computed and reset; sharing it between ``training_step`` and
    ``validation_step`` mixes training batches into the validation score (and vice versa), and Lightning's
    automatic reset happens at the wrong epoch end. Create one object per stage (``self.train_acc``,
    ``self.val_acc``) or use ``MetricCollection.clone(prefix=...)``.
    """

    code = "MLR134"
    name = "shared-metric-object"
    checklist = "metric-prefixes"
    severity = "error"
    message = "One metric object is shared by several stages"
    suggestion = "Create one metric per stage in __init__: self.train_acc = ...; self.val_acc = self.train_acc.clone()."
    VALID = [
        "import lightning as L\nfrom torchmetrics.classification import MulticlassAccuracy\n"
        "class M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
        "        self.train_acc = MulticlassAccuracy(3)\n        self.val_acc = MulticlassAccuracy(3)\n"
        "    def training_step(self, b, i):\n        self.train_acc(b, b)\n"
        "    def validation_step(self, b, i):\n        self.val_acc(b, b)\n"
    ]
    INVALID = [
        "import lightning as L\nfrom torchmetrics.classification import MulticlassAccuracy\n"
        "class M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
        "        self.acc = MulticlassAccuracy(3)\n"
        "    def training_step(self, b, i):\n        self.acc(b, b)\n        self.log('train/acc', self.acc)\n"
        "    def validation_step(self, b, i):\n        self.acc(b, b)\n        self.log('val/acc', self.acc)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            init = cls.methods.get("__init__")
            if init is None:
                continue
            metrics = {
                c.target
                for c in init.calls
                if c.target
                and c.target.startswith("self.")
                and c.resolved
                and c.name.startswith("torchmetrics")
                and c.short[:1].isupper()
            }
            if not metrics:
                continue
            users: dict[str, list[str]] = {}
            for hook, stage in _STAGES.items():
                method = cls.methods.get(hook)
                if method is None:
                    continue
                for call in method.calls:
                    name = (
                        call.raw if call.raw in metrics else call.receiver if call.receiver in metrics else ""
                    )
                    if not name and call.short == "log":
                        value = call.positional(1)
                        name = call.file.code(value) if isinstance(value, cst.Attribute) else ""
                    if name in metrics and stage not in users.setdefault(name, []):
                        users[name].append(stage)
            file = project.class_file(cls)
            for name, stages in users.items():
                if len(stages) > 1:
                    yield self.at(file, cls.node.name, f"{name} is updated in {' and '.join(stages)} steps")
