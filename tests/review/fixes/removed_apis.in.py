# ruff: noqa  (golden input for the autofix tests: kept exactly as the review fixer sees and writes it)
# fmt: off
import pytorch_lightning as pl
import torchmetrics
from torch.utils.data import DataLoader, random_split


class Data(pl.LightningDataModule):
    def setup(self, stage=None):
        self.train_ds, self.val_ds = random_split(self.full, [0.9, 0.1])

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=32)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=32, shuffle=True)


accuracy = torchmetrics.Accuracy(num_classes=10)
pl.seed_everything(1)
trainer = pl.Trainer(gpus=2, auto_select_gpus=True, max_epochs=5)
