"""CUB-200 bird classifier with GPU-side Kornia augmentation (the Lightning docs' on_after_batch_transfer pattern)."""

import kornia.augmentation as K
import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.models import ConvNeXt_Tiny_Weights, convnext_tiny
from torchvision.transforms import v2


class BirdCfg(BaseModel):
    root: str = "CUB_200_2011/split"
    lr: float = Field(2e-4, gt=0, lt=1e-2)
    epochs: int = Field(40, ge=1)
    batch_size: int = Field(48, ge=1)


class GPUAugment(nn.Module):
    def __init__(self):
        super().__init__()
        self.ops = nn.Sequential(
            K.RandomResizedCrop((384, 384), scale=(0.5, 1.0)),
            K.RandomHorizontalFlip(),
            K.ColorJitter(0.3, 0.3, 0.3, 0.05, p=0.8),
        )

    @torch.no_grad()
    def forward(self, x):
        return self.ops(x)


class BirdNet(L.LightningModule):
    def __init__(self, cfg: BirdCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.augment = GPUAugment()
        self.normalize = K.Normalize(mean=torch.tensor([0.485, 0.456, 0.406]), std=torch.tensor([0.229, 0.224, 0.225]))
        self.net = convnext_tiny(weights=ConvNeXt_Tiny_Weights.IMAGENET1K_V1)
        self.net.classifier[2] = nn.Linear(self.net.classifier[2].in_features, 200)
        self.loss = nn.CrossEntropyLoss(label_smoothing=0.1)

    def on_after_batch_transfer(self, batch, dataloader_idx):
        x, y = batch
        if self.trainer.training:
            x = self.augment(x)
        return self.normalize(x), y

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.loss(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=0.05)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs)}


class CUBData(L.LightningDataModule):
    def __init__(self, cfg: BirdCfg):
        super().__init__()
        self.cfg = cfg
        self.tf = v2.Compose([v2.Resize((384, 384)), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])

    def setup(self, stage=None):
        self.train_ds = ImageFolder(f"{self.cfg.root}/train", self.tf)
        self.val_ds = ImageFolder(f"{self.cfg.root}/val", self.tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8, pin_memory=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=96, num_workers=8)


if __name__ == "__main__":
    cfg = BirdCfg()
    L.seed_everything(200, workers=True)
    model = BirdNet(cfg)
    trainer = L.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu",
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=WandbLogger(project="cub200"),
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss", patience=6),
                   LearningRateMonitor()],
    )
    trainer.fit(model, datamodule=CUBData(cfg))
    model.eval()
    model.to_onnx("cub_convnext.onnx", torch.rand(1, 3, 384, 384), dynamic_axes={"input": {0: "batch"}}, input_names=["input"])
