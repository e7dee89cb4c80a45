"""Generic classification LightningModule; optimizers, schedulers, losses and callbacks come from the team registry."""

import lightning as L
import torch

from mlcore.registry import build_callbacks, build_loss, build_optimizer, build_scheduler


class RegistryClassifier(L.LightningModule):
    def __init__(self, backbone: torch.nn.Module, cfg):
        super().__init__()
        self.save_hyperparameters(ignore=["backbone"])
        self.cfg = cfg
        self.backbone = backbone
        self.criterion = build_loss(cfg.loss)

    def forward(self, x):
        return self.backbone(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.criterion(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        optimizer = build_optimizer(self.cfg.optimizer, self.parameters())
        scheduler = build_scheduler(self.cfg.scheduler, optimizer, self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    def configure_callbacks(self):
        return build_callbacks(self.cfg.callbacks)
