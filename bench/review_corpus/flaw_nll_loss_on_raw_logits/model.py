import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import LightningModule
from pydantic import BaseModel, Field


class NetConfig(BaseModel):
    num_classes: int = Field(100, ge=2)
    width: int = Field(64, ge=8)
    lr: float = Field(0.05, gt=0, le=0.5)
    epochs: int = Field(100, ge=1)


class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.short = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return out + self.short(x)


class Cifar100WRN(LightningModule):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        w = cfg.width
        self.stem = nn.Conv2d(3, w, 3, 1, 1, bias=False)
        self.layers = nn.Sequential(WideBlock(w, w, 1), WideBlock(w, 2 * w, 2), WideBlock(2 * w, 4 * w, 2))
        self.head = nn.Linear(4 * w, cfg.num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.nll_loss(logits, y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", F.nll_loss(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.cfg.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[30, 60, 80], gamma=0.2)
        return {"optimizer": opt, "lr_scheduler": sched}
