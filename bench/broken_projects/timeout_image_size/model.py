import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

NUM_CLASSES = 10
IMAGE_SIZE = 768


class ConvNet(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(64, NUM_CLASSES)
        self.example_input_array = torch.zeros(2, 3, IMAGE_SIZE, IMAGE_SIZE)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)

    def train_dataloader(self):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(32, 3, IMAGE_SIZE, IMAGE_SIZE, generator=g)
        y = torch.randint(0, NUM_CLASSES, (32,), generator=g)
        return DataLoader(TensorDataset(x, y), batch_size=16)
