"""Stanford Cars: pretraining from scratch (pretrain.py) and a quick linear-probe fine-tune (finetune.py)."""

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy
from torchvision import transforms as T
from torchvision.datasets import StanfordCars
from torchvision.models import ResNet50_Weights, resnet50

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class CarsConfig(BaseModel):
    lr: float = Field(1e-3, gt=0, lt=1)
    batch_size: int = Field(64, ge=1)
    pretrained: bool = False


class CarsData(L.LightningDataModule):
    def __init__(self, root: str = "data", batch_size: int = 64) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size

    def setup(self, stage=None):
        train_tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(MEAN, STD)])
        test_tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
        full = StanfordCars(self.root, split="train", transform=train_tf)
        n_val = len(full) // 10
        self.train_set = torch.utils.data.Subset(full, range(n_val, len(full)))
        self.val_set = torch.utils.data.Subset(StanfordCars(self.root, split="train", transform=test_tf), range(n_val))

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=8)


class CarsNet(L.LightningModule):
    def __init__(self, cfg: CarsConfig) -> None:
        super().__init__()
        self.save_hyperparameters(cfg.model_dump())
        weights = ResNet50_Weights.IMAGENET1K_V2 if cfg.pretrained else None
        self.net = resnet50(weights=weights)
        self.net.fc = nn.Linear(2048, 196)
        self.lr = cfg.lr
        self.val_acc = MulticlassAccuracy(num_classes=196)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val/loss", F.cross_entropy(logits, y))
        self.log("val/acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=0.05)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)]
