# ruff: noqa  (golden input for the autofix tests: kept exactly as the review fixer sees and writes it)
# fmt: off
"""A small but typical Lightning training script with fixable problems."""

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from lightning.pytorch.loggers import TensorBoardLogger


class LitClassifier(L.LightningModule):
    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__()
        self.net = nn.Linear(32, 4)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(F.softmax(self(x), dim=1), y)
        self.log("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", F.cross_entropy(self(x), y))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)}


def main() -> None:
    trainer = L.Trainer(
        max_epochs=10,
        accelerator="gpu",
        logger=TensorBoardLogger(save_dir="lightning_logs", name="classifier"),
    )
    trainer.fit(LitClassifier())


if __name__ == "__main__":
    main()
