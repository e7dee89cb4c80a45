"""A DataModule with worker processes: needs /dev/shm and AF_UNIX sockets inside the sandbox."""

import lightning.pytorch as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Regressor(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class WorkerData(pl.LightningDataModule):
    def train_dataloader(self):
        x = torch.randn(64, 4)
        y = x.sum(dim=1, keepdim=True)
        return DataLoader(TensorDataset(x, y), batch_size=8, num_workers=2)
