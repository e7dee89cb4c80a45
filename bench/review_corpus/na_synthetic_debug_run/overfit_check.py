"""Sanity check: can the detection head overfit random tensors? Runs on a laptop CPU in a few seconds."""

import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader, TensorDataset


class TinyHead(L.LightningModule):
    def __init__(self, in_ch: int = 256, num_anchors: int = 9, num_classes: int = 4, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.cls = nn.Conv2d(in_ch, num_anchors * num_classes, 3, padding=1)
        self.loss = nn.BCEWithLogitsLoss()

    def forward(self, feats):
        return self.cls(feats)

    def training_step(self, batch, batch_idx):
        feats, targets = batch
        loss = self.loss(self(feats), targets)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.5)]


if __name__ == "__main__":
    L.seed_everything(0)
    feats = torch.randn(64, 256, 16, 16)
    targets = (torch.rand(64, 36, 16, 16) > 0.95).float()
    loader = DataLoader(TensorDataset(feats, targets), batch_size=16, shuffle=True)
    trainer = L.Trainer(max_steps=200, accelerator="cpu", logger=CSVLogger("debug_logs"), enable_checkpointing=False,
                        gradient_clip_val=1.0, overfit_batches=1)
    trainer.fit(TinyHead(), loader)
