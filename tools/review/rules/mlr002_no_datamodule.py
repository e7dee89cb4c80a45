"""MLR002: data comes from a LightningDataModule."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Hit, PrimaryRule


class NoDataModule(PrimaryRule):
    """DataLoaders are built ad hoc instead of in a ``LightningDataModule``.

    A DataModule keeps download, split, transforms and the three loaders in one reusable, testable class, so
    the same splits are used for training, validation, test and export, and other projects can reuse them.
    Loaders built in a script and passed to ``trainer.fit(model, train_loader, val_loader)`` or iterated in a
    hand-written loop tend to drift apart (different transforms, different seeds per split).
    """

    code = "MLR002"
    name = "no-datamodule"
    checklist = "data-module"
    severity = "warning"
    message = "DataLoaders are built outside a LightningDataModule"
    suggestion = (
        "Move dataset creation, splitting and the loaders into a LightningDataModule (prepare_data/setup/"
        "train_dataloader/val_dataloader) and call trainer.fit(model, datamodule=dm)."
    )
    VALID = [
        (
            "import lightning as L\nfrom torch.utils.data import DataLoader\nclass DM(L.LightningDataModule):\n"
            "    def train_dataloader(self):\n        return DataLoader(self.train_ds, shuffle=True)\n"
        ),
    ]
    INVALID = [
        (
            "import lightning as L\nfrom torch.utils.data import DataLoader\n"
            "train_loader = DataLoader(ds, batch_size=32, shuffle=True)\n"
            "trainer = L.Trainer()\ntrainer.fit(model, train_loader)\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.datamodules or not project.trains:
            return
        lm_set = set(map(id, project.lightning_modules))
        for call in project.calls_named("DataLoader"):
            if call.cls is not None and id(call.cls) in lm_set:
                continue  # reported by MLR115 (data loading inside the LightningModule)
            yield self.at(call.file, call.node, f"{call.code(60)} is built outside a LightningDataModule")
            return

    def judge(self, project: Project) -> tuple[Status, str]:
        if project.datamodules:
            cls = project.datamodules[0]
            f = project.class_file(cls)
            return "pass", f"class {cls.name}({', '.join(cls.bases)}) at {f.path}:{f.line(cls.node)}"
        for call in project.fit_calls:
            if call.kw("datamodule") is not None:
                return "unknown", f"{call.code(60)} at {call.where()}: the DataModule is defined elsewhere"
        if project.cli_calls:
            return "unknown", "LightningCLI: the DataModule comes from a config that was not reviewed"
        if project.external_data:
            return "unknown", project.external_data
        if project.calls_named("DataLoader"):
            return "not_applicable", "DataLoaders without training code"
        return "not_applicable", "no data loading in the reviewed code"
