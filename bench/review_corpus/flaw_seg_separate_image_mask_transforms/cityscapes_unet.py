"""UNet on Cityscapes (19 train ids). Transforms written with torchvision v1 on image and mask separately."""

import pytorch_lightning as pl
import segmentation_models_pytorch as smp
import torch
from pydantic import BaseModel, Field
from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import WandbLogger
from torch.utils.data import DataLoader
from torchmetrics import JaccardIndex
from torchvision import transforms
from torchvision.datasets import Cityscapes


class SegConfig(BaseModel):
    root: str = "/data/cityscapes"
    encoder: str = "resnet34"
    lr: float = Field(2e-4, gt=0, lt=1e-2)
    batch_size: int = Field(8, ge=1)
    crop: int = Field(512, ge=128)
    epochs: int = Field(120, ge=1)


image_tf = transforms.Compose([
    transforms.RandomResizedCrop(512, scale=(0.5, 1.0)),
    transforms.RandomHorizontalFlip(),
    transforms.ColorJitter(0.25, 0.25, 0.25),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
mask_tf = transforms.Compose([
    transforms.RandomResizedCrop(512, scale=(0.5, 1.0)),
    transforms.RandomHorizontalFlip(),
    transforms.PILToTensor(),
])
val_image_tf = transforms.Compose([
    transforms.Resize((512, 1024)),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
val_mask_tf = transforms.Compose([
    transforms.Resize((512, 1024), interpolation=transforms.InterpolationMode.NEAREST),
    transforms.PILToTensor(),
])


class CityscapesDM(pl.LightningDataModule):
    def __init__(self, cfg: SegConfig):
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        self.train_ds = Cityscapes(self.cfg.root, split="train", mode="fine", target_type="semantic",
                                   transform=image_tf, target_transform=mask_tf)
        self.val_ds = Cityscapes(self.cfg.root, split="val", mode="fine", target_type="semantic",
                                 transform=val_image_tf, target_transform=val_mask_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=2, num_workers=8)


class UNetModule(pl.LightningModule):
    def __init__(self, cfg: SegConfig):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.model = smp.Unet(cfg.encoder, encoder_weights="imagenet", classes=19)
        self.dice = smp.losses.DiceLoss(mode="multiclass", ignore_index=255)
        self.ce = torch.nn.CrossEntropyLoss(ignore_index=255)
        self.val_iou = JaccardIndex(task="multiclass", num_classes=19, ignore_index=255)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        image, mask = batch
        mask = mask.squeeze(1).long()
        logits = self(image)
        loss = self.ce(logits, mask) + self.dice(logits, mask)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        image, mask = batch
        mask = mask.squeeze(1).long()
        logits = self(image)
        self.log("val/loss", self.ce(logits, mask) + self.dice(logits, mask))
        self.val_iou(logits.argmax(1), mask)
        self.log("val/miou", self.val_iou, prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=self.trainer.estimated_stepping_batches, power=0.9)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


if __name__ == "__main__":
    cfg = SegConfig()
    pl.seed_everything(42, workers=True)
    trainer = pl.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu",
        devices=4,
        strategy="ddp",
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=WandbLogger(project="cityscapes-unet"),
        callbacks=[
            ModelCheckpoint(monitor="val/miou", mode="max"),
            EarlyStopping(monitor="val/miou", mode="max", patience=20),
            LearningRateMonitor("step"),
        ],
    )
    model = UNetModule(cfg)
    trainer.fit(model, datamodule=CityscapesDM(cfg))
    model.eval()
    model.to_onnx("unet_cityscapes.onnx", torch.randn(1, 3, 512, 1024), opset_version=17)
