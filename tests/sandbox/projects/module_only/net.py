"""A LightningModule without a DataModule: the harness builds data from example_input_array."""

import lightning.pytorch as pl
import torch
from torch import nn


class SmallConvNet(pl.LightningModule):
    def __init__(self, num_classes: int = 4) -> None:
        super().__init__()
        self.example_input_array = torch.zeros(2, 3, 16, 16)
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(8, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.01)
