"""A segmentation module configured by a Pydantic model (constructed from its defaults by the harness)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from config import SegConfig
from torch import nn


class TinySegmenter(pl.LightningModule):
    def __init__(self, config: SegConfig) -> None:
        super().__init__()
        self.config = config
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, config.num_classes, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        images, masks = batch
        loss = nn.functional.cross_entropy(self(images), masks)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.config.lr)
