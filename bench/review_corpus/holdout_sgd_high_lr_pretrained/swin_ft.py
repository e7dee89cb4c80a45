"""Fine-tune a pretrained Swin-T on NWPU-RESISC45 remote-sensing scenes."""

import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.models import Swin_T_Weights, swin_t
from torchvision.transforms import v2


class SwinCfg(BaseModel):
    lr: float = Field(0.1, gt=0)
    momentum: float = Field(0.9, ge=0, lt=1)
    epochs: int = Field(30, ge=1)


class SceneClassifier(L.LightningModule):
    def __init__(self, cfg: SwinCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.net = swin_t(weights=Swin_T_Weights.IMAGENET1K_V1)
        self.net.head = nn.Linear(self.net.head.in_features, 45)
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.loss(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.cfg.lr, momentum=self.cfg.momentum, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs)
        return {"optimizer": opt, "lr_scheduler": sched}


class Resisc(L.LightningDataModule):
    def setup(self, stage=None):
        to_t = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        self.train_ds = ImageFolder("resisc45/train", v2.Compose([v2.RandomResizedCrop(224), v2.RandomHorizontalFlip(),
                                                                 v2.RandomVerticalFlip(), *to_t]))
        self.val_ds = ImageFolder("resisc45/val", v2.Compose([v2.Resize(224), *to_t]))

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=64, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=128, num_workers=8)


if __name__ == "__main__":
    cfg = SwinCfg()
    L.seed_everything(45, workers=True)
    model = SceneClassifier(cfg)
    trainer = L.Trainer(max_epochs=cfg.epochs, accelerator="gpu", precision="bf16-mixed", gradient_clip_val=5.0,
                        logger=WandbLogger(project="resisc45"),
                        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss"),
                                   LearningRateMonitor()])
    trainer.fit(model, datamodule=Resisc())
    model.eval()
    model.to_onnx("swin_resisc.onnx", torch.randn(1, 3, 224, 224))
