"""Semantic segmentation with label-smoothed soft targets: cross_entropy with class-probability maps."""

import lightning as L
import torch
import torch.nn.functional as F
from pydantic import BaseModel, Field
from torchvision.models.segmentation import lraspp_mobilenet_v3_large


class LRASPPConfig(BaseModel):
    num_classes: int = Field(19, ge=2)
    smoothing: float = Field(0.05, ge=0, lt=0.5)
    lr: float = Field(1e-3, gt=0, lt=1e-2)
    max_steps: int = Field(80_000, ge=1)


class LRASPPModule(L.LightningModule):
    def __init__(self, cfg: LRASPPConfig):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.net = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=cfg.num_classes)

    def forward(self, x):
        return self.net(x)["out"]

    def _soft_targets(self, mask: torch.Tensor) -> torch.Tensor:
        k = self.cfg.num_classes
        one_hot = F.one_hot(mask.clamp(0, k - 1), k).permute(0, 3, 1, 2).float()
        return one_hot * (1 - self.cfg.smoothing) + self.cfg.smoothing / k

    def training_step(self, batch, batch_idx):
        image, mask = batch
        loss = F.cross_entropy(self(image), self._soft_targets(mask))
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        image, mask = batch
        logits = self(image)
        self.log("val/loss", F.cross_entropy(logits, mask, ignore_index=255))
        self.log("val/pixel_acc", (logits.argmax(1) == mask).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=self.cfg.max_steps, power=0.9)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
