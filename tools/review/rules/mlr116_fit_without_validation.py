"""MLR116: training with no validation loop."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.structure import LM, local_lms

_TRAIN_ONLY = re.compile(r"train", re.I)


class FitWithoutValidation(Rule):
    """``trainer.fit`` gets only training data and the module has no ``validation_step``.

    Without a validation loop nothing measures generalisation: overfitting, the best epoch and a diverging run
    stay invisible, and checkpoints or early stopping cannot monitor a validation metric. The reviewer flags it
    only when it can see the whole picture: every LightningModule is in the reviewed code, none defines
    ``validation_step``, and the fit call passes a training loader only (no ``val_dataloaders``, no datamodule).
    """

    code = "MLR116"
    name = "fit-without-validation"
    checklist = ""
    severity = "warning"
    message = "The model trains with no validation loop"
    suggestion = (
        "Hold out a validation split, add validation_step (log val/loss and a metric) and pass "
        "val_dataloaders= (or use a LightningDataModule with val_dataloader)."
    )
    VALID = [
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        return 0\n"
        + "    def validation_step(self, b, i):\n        pass\n"
        + "trainer = L.Trainer()\ntrainer.fit(M(), train_loader, val_loader)\n",
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        return 0\n"
        + "trainer = L.Trainer()\ntrainer.fit(M(), datamodule=dm)\n",
    ]
    INVALID = [
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        return 0\n"
        + "trainer = L.Trainer()\ntrainer.fit(M(), train_loader)\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        modules = local_lms(project)
        if not modules or len(modules) != len(project.lightning_modules):
            return
        if any("validation_step" in cls.methods for cls in modules):
            return
        for call in project.fit_calls:
            if call.kw("val_dataloaders") is not None or call.kw("datamodule") is not None:
                continue
            if call.positional(2) is not None:
                continue
            data = call.kw("train_dataloaders") or call.positional(1)
            if data is None or not _TRAIN_ONLY.search(call.file.code(data)):
                continue  # a datamodule or an unnamed source may hold validation data: not judged
            yield self.at(
                call.file,
                call.node,
                f"{call.code(60)} trains on {call.file.code(data)} only and no module defines validation_step: "
                "there is no validation set, so overfitting and the best epoch go unseen",
            )
