"""MLR115: data loading in lightning module."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule


class DataLoadingInModule(Rule):
    """The LightningModule builds datasets/DataLoaders itself.

    Data code inside the model couples the two: the model cannot be reused with other data, and splits,
    transforms and loaders cannot be tested or shared. Move them into a LightningDataModule.
    """

    code = "MLR115"
    name = "data-loading-in-lightning-module"
    checklist = "data-module"
    severity = "warning"
    message = "Data loading inside the LightningModule"
    suggestion = "Move the datasets and *_dataloader methods into a LightningDataModule and pass it to trainer.fit(datamodule=...)."
    VALID = [
        "import lightning as L\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n        return self(b)\n"
    ]
    INVALID = [
        "import lightning as L\nfrom torch.utils.data import DataLoader\nclass M(L.LightningModule):\n"
        "    def train_dataloader(self):\n        return DataLoader(self.ds, shuffle=True)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            for name in ("train_dataloader", "val_dataloader", "test_dataloader", "prepare_data"):
                method = cls.methods.get(name)
                if method is not None:
                    f = project.class_file(cls)
                    yield self.at(
                        f, method.node.name, f"{cls.name}.{name} loads data inside the LightningModule"
                    )
                    break
