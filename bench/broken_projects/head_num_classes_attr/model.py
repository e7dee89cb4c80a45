import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset



class Classifier(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.num_classes = 10
        self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.ReLU())
        self.head = nn.Linear(64, 4)
        self.example_input_array = torch.zeros(2, 3, 8, 8)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)

    def train_dataloader(self):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(64, 3, 8, 8, generator=g)
        y = torch.randint(0, 10, (64,), generator=g)
        return DataLoader(TensorDataset(x, y), batch_size=16)
