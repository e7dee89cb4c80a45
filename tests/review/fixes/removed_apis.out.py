# ruff: noqa  (golden input for the autofix tests: kept exactly as the review fixer sees and writes it)
# fmt: off
import pytorch_lightning as pl
import torchmetrics
from torch.utils.data import DataLoader, random_split
import torch


class Data(pl.LightningDataModule):
    def setup(self, stage=None):
        self.train_ds, self.val_ds = random_split(self.full, [0.9, 0.1], generator=torch.Generator().manual_seed(42))

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=32, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=32, shuffle=False)


accuracy = torchmetrics.Accuracy(num_classes=10, task="multiclass")
pl.seed_everything(1, workers=True)
trainer = pl.Trainer(max_epochs=5, gradient_clip_val=1.0, precision="16-mixed", accelerator="gpu", devices=2)
