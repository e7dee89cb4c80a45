"""Binary road-segmentation (Massachusetts Roads) LinkNet whose head ends in nn.Sigmoid."""

import lightning as L
import segmentation_models_pytorch as smp
import torch
import torch.nn as nn
from pydantic import BaseModel, Field


class RoadCfg(BaseModel):
    encoder: str = "resnet34"
    lr: float = Field(3e-4, gt=0, lt=1e-2)
    epochs: int = Field(100, ge=1)
    pos_weight: float = Field(3.0, gt=0)


class RoadSegmenter(L.LightningModule):
    def __init__(self, cfg: RoadCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.net = nn.Sequential(smp.Linknet(cfg.encoder, encoder_weights="imagenet", classes=1), nn.Sigmoid())
        self.loss = nn.BCEWithLogitsLoss(pos_weight=torch.tensor(cfg.pos_weight))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        image, mask = batch
        loss = self.loss(self(image), mask)
        self.log("train/bce", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        image, mask = batch
        prob = self(image)
        self.log("val/bce", self.loss(prob, mask))
        inter = ((prob > 0.5) & (mask > 0.5)).sum()
        union = ((prob > 0.5) | (mask > 0.5)).sum().clamp(min=1)
        self.log("val/iou", inter / union)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs, eta_min=1e-6)
        return [opt], [sched]
