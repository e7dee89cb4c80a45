import lightning.pytorch as pl
import torch
from torch import nn


def check_shapes(logits: torch.Tensor) -> None:
    raise ValueError(f"unexpected logits shape {tuple(logits.shape)}")


class BrokenModule(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.example_input_array = torch.zeros(1, 8)
        self.layer = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)

    def training_step(self, batch, batch_idx):
        x, _ = batch
        check_shapes(self(x))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
