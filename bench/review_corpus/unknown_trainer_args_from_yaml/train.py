"""Tiny-ImageNet ViT-S/16 run; all Trainer arguments live in configs/trainer.yaml (kept per cluster)."""

import lightning as L
import timm
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from omegaconf import OmegaConf
from pydantic import BaseModel, Field
from timm.data import create_transform
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder


class RunConfig(BaseModel):
    lr: float = Field(5e-4, gt=0, lt=1e-2)
    warmup_steps: int = Field(2000, ge=0)
    batch_size: int = Field(256, ge=1)
    mixup: float = Field(0.2, ge=0, le=1)


class ViTModule(L.LightningModule):
    def __init__(self, run: RunConfig):
        super().__init__()
        self.save_hyperparameters()
        self.run = run
        self.model = timm.create_model("vit_small_patch16_224", pretrained=False, num_classes=200, img_size=64, patch_size=8)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y, label_smoothing=0.1)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", F.cross_entropy(logits, y))
        self.log("val/top1", (logits.argmax(-1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.run.lr, weight_decay=0.05)
        warmup = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=self.run.warmup_steps)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.estimated_stepping_batches)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[self.run.warmup_steps])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class TinyImageNet(L.LightningDataModule):
    def __init__(self, run: RunConfig, root: str = "/data/tiny-imagenet-200"):
        super().__init__()
        self.run, self.root = run, root

    def setup(self, stage=None):
        self.train_ds = ImageFolder(f"{self.root}/train", create_transform(64, is_training=True, auto_augment="rand-m9-mstd0.5"))
        self.val_ds = ImageFolder(f"{self.root}/val", create_transform(64, is_training=False))

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.run.batch_size, shuffle=True, num_workers=12, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=512, num_workers=12)


if __name__ == "__main__":
    cfg = OmegaConf.load("configs/trainer.yaml")
    L.seed_everything(cfg.seed, workers=True)
    run = RunConfig()
    trainer = L.Trainer(
        **cfg.trainer,
        logger=WandbLogger(project="tiny-imagenet-vit"),
        callbacks=[ModelCheckpoint(monitor="val/top1", mode="max"), EarlyStopping(monitor="val/loss", patience=15),
                   LearningRateMonitor("step")],
    )
    trainer.fit(ViTModule(run), datamodule=TinyImageNet(run))
