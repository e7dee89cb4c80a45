import pytorch_lightning as pl
import torch
from torchmetrics.segmentation import MeanIoU
from torchvision.models import ResNet50_Weights
from torchvision.models.segmentation import deeplabv3_resnet50

from seg.config import TrainConfig
from seg.losses import DiceCELoss


class DeepLabModule(pl.LightningModule):
    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.config = config
        self.net = deeplabv3_resnet50(
            weights=None, weights_backbone=ResNet50_Weights.IMAGENET1K_V2, num_classes=config.num_classes
        )
        self.loss_fn = DiceCELoss(config.num_classes, dice_weight=config.dice_weight)
        self.val_miou = MeanIoU(num_classes=config.num_classes, input_format="index")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)["out"]

    def training_step(self, batch, batch_idx):
        images, masks = batch
        loss = self.loss_fn(self(images), masks)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        images, masks = batch
        logits = self(images)
        self.log("val_loss", self.loss_fn(logits, masks), on_epoch=True)
        preds = logits.argmax(dim=1)
        keep = masks != 255
        self.val_miou(preds * keep, masks * keep)
        self.log("val_miou", self.val_miou, on_epoch=True, prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.config.max_lr, weight_decay=self.config.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=self.config.max_lr,
            total_steps=self.trainer.estimated_stepping_batches,
            pct_start=0.1,
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
