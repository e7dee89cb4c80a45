"""Entry point for the shared training platform: the Trainer is built by platform.trainer_factory."""

import lightning as L
import torch
import torch.nn as nn
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision.datasets import DTD
from torchvision.models import efficientnet_b2, EfficientNet_B2_Weights
from torchvision.transforms import v2

from platform_utils.trainer_factory import build_trainer


class TextureCfg(BaseModel):
    lr: float = Field(5e-4, gt=0, lt=1e-2)
    epochs: int = Field(30, ge=1)
    batch_size: int = Field(32, ge=1)


class TextureNet(L.LightningModule):
    def __init__(self, cfg: TextureCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.net = efficientnet_b2(weights=EfficientNet_B2_Weights.IMAGENET1K_V1)
        self.net.classifier[1] = nn.Linear(self.net.classifier[1].in_features, 47)
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
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.cfg.epochs)}


class DTDData(L.LightningDataModule):
    def __init__(self, cfg: TextureCfg):
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        norm = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        self.train_ds = DTD("data", split="train", transform=v2.Compose(
            [v2.RandomResizedCrop(288), v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(), *norm]))
        self.val_ds = DTD("data", split="val", transform=v2.Compose([v2.Resize(320), v2.CenterCrop(288), *norm]))

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=64, num_workers=8)


if __name__ == "__main__":
    cfg = TextureCfg()
    L.seed_everything(47, workers=True)
    model = TextureNet(cfg)
    trainer = build_trainer(project="dtd-textures", max_epochs=cfg.epochs)
    trainer.fit(model, datamodule=DTDData(cfg))
    model.eval()
    model.to_onnx("dtd.onnx", torch.randn(1, 3, 288, 288))
