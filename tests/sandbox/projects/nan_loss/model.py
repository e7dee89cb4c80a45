import lightning.pytorch as pl
import torch
from torch import nn


class DivergingModule(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.example_input_array = torch.zeros(1, 8)
        self.layer = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        if self.global_step >= 2:
            loss = loss * float("nan")
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
