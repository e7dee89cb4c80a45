from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics.segmentation import MeanIoU


class SegLitModule(L.LightningModule):
    """Network, loss, optimizer and scheduler are all injected by Hydra from configs/model/*.yaml."""

    def __init__(self, net: nn.Module, loss: nn.Module, optimizer: Any, scheduler: Any, num_classes: int) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False, ignore=["net", "loss"])
        self.net = net
        self.criterion = loss
        self.val_miou = MeanIoU(num_classes=num_classes, input_format="index")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)["out"]

    def training_step(self, batch, batch_idx):
        images, masks = batch
        loss = self.criterion(self(images), masks)
        self.log("train/loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        images, masks = batch
        logits = self(images)
        self.log("val/loss", self.criterion(logits, masks), on_epoch=True)
        valid = masks != 255
        self.val_miou(logits.argmax(1) * valid, masks * valid)
        self.log("val/miou", self.val_miou, on_epoch=True, prog_bar=True)

    def configure_optimizers(self):
        optimizer = self.hparams.optimizer(params=self.parameters())
        scheduler = self.hparams.scheduler(optimizer=optimizer, total_iters=self.trainer.estimated_stepping_batches)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
