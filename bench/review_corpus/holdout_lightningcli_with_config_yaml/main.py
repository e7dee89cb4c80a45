"""LightningCLI entry: `python main.py fit --config configs/fit.yaml`."""

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.cli import LightningCLI
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision.datasets import STL10
from torchvision.models import resnet34
from torchvision.transforms import v2


class HParams(BaseModel):
    lr: float = Field(0.05, gt=0, le=0.5)
    weight_decay: float = Field(5e-4, ge=0)


class STLClassifier(LightningModule):
    def __init__(self, hp: HParams = HParams()):
        super().__init__()
        self.save_hyperparameters()
        self.hp = hp
        self.net = resnet34(weights=None, num_classes=10)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hp.lr, momentum=0.9, weight_decay=self.hp.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.hp.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class STLData(LightningDataModule):
    def __init__(self, root: str = "data", batch_size: int = 128):
        super().__init__()
        self.root, self.batch_size = root, batch_size
        base = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.44, 0.43, 0.40], [0.26, 0.26, 0.27])]
        self.train_tf = v2.Compose([v2.RandomCrop(96, padding=12), v2.RandomHorizontalFlip(), *base])
        self.test_tf = v2.Compose(base)

    def setup(self, stage=None):
        full = STL10(self.root, split="train", transform=self.train_tf)
        full_eval = STL10(self.root, split="train", transform=self.test_tf)
        idx = torch.randperm(len(full), generator=torch.Generator().manual_seed(0)).tolist()
        self.train_ds = torch.utils.data.Subset(full, idx[500:])
        self.val_ds = torch.utils.data.Subset(full_eval, idx[:500])

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=256, num_workers=8)


if __name__ == "__main__":
    LightningCLI(STLClassifier, STLData)
