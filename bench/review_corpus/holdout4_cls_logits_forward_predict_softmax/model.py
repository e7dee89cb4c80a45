"""Plant-disease classifier: EfficientNet-B0 backbone initialised from a local checkpoint (no downloads)."""

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score
from torchvision.models import efficientnet_b0

from config import PlantConfig


class PlantNet(L.LightningModule):
    def __init__(self, cfg: PlantConfig) -> None:
        super().__init__()
        self.save_hyperparameters(cfg.model_dump())
        self.cfg = cfg
        self.backbone = efficientnet_b0(weights=None)
        if cfg.backbone_ckpt:
            self.backbone.load_state_dict(torch.load(cfg.backbone_ckpt, map_location="cpu"))
        self.backbone.classifier[1] = nn.Linear(self.backbone.classifier[1].in_features, cfg.num_classes)
        self.train_acc = MulticlassAccuracy(num_classes=cfg.num_classes)
        self.val_acc = MulticlassAccuracy(num_classes=cfg.num_classes)
        self.val_f1 = MulticlassF1Score(num_classes=cfg.num_classes, average="macro")

    def forward(self, x):
        return self.backbone(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits.view(-1, self.cfg.num_classes), y, label_smoothing=0.1)
        self.train_acc(logits, y)
        self.log("train/loss", loss)
        self.log("train/acc", self.train_acc, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.val_f1(logits, y)
        self.log("val/loss", F.cross_entropy(logits, y))
        self.log("val/acc", self.val_acc)
        self.log("val/f1", self.val_f1)

    def predict_step(self, batch, batch_idx):
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self(x).softmax(dim=-1)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=0.05)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=self.cfg.lr, total_steps=self.trainer.estimated_stepping_batches
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
