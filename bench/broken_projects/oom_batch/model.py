import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

NUM_CLASSES = 10
BATCH_SIZE = 16384


class Wide(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 64 * 64, 4096), nn.ReLU(), nn.Linear(4096, NUM_CLASSES))
        self.example_input_array = torch.zeros(2, 3, 64, 64)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)

    def train_dataloader(self):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(BATCH_SIZE, 3, 64, 64, generator=g)
        y = torch.randint(0, NUM_CLASSES, (BATCH_SIZE,), generator=g)
        return DataLoader(TensorDataset(x, y), batch_size=BATCH_SIZE)
