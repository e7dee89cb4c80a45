import lightning as L
import torch
import torch.nn.functional as F
from torchvision.models import resnet18


class Finetune(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = resnet18(pretrained=True)
        self.model.fc = torch.nn.Linear(512, 10)
        self.example_input_array = torch.zeros(2, 3, 32, 32)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
