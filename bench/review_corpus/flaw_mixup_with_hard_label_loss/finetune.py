"""Fine-tune a ViT-B/16 (timm, in21k->1k weights) on iNaturalist mini with MixUp/CutMix and warm-up + cosine."""

import lightning.pytorch as pl
import timm
import torch
from pydantic import BaseModel, Field
from timm.data import Mixup, create_transform, resolve_data_config
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from transformers import get_cosine_schedule_with_warmup


class FinetuneCfg(BaseModel):
    model_name: str = "vit_base_patch16_224.augreg2_in21k_ft_in1k"
    num_classes: int = Field(1010, ge=2)
    lr: float = Field(5e-5, gt=0, le=1e-3)
    layer_decay: float = Field(0.75, gt=0, le=1)
    warmup_ratio: float = Field(0.05, ge=0, lt=0.5)
    mixup_alpha: float = Field(0.8, ge=0)
    cutmix_alpha: float = Field(1.0, ge=0)
    batch_size: int = Field(128, ge=1)
    epochs: int = Field(30, ge=1)


class ViTFinetune(pl.LightningModule):
    def __init__(self, cfg: FinetuneCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.model = timm.create_model(cfg.model_name, pretrained=True, num_classes=cfg.num_classes, drop_path_rate=0.1)
        self.mixup = Mixup(mixup_alpha=cfg.mixup_alpha, cutmix_alpha=cfg.cutmix_alpha, label_smoothing=0.1,
                           num_classes=cfg.num_classes)
        self.eval_loss = torch.nn.CrossEntropyLoss()

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        x, _ = self.mixup(x, y)
        loss = self.eval_loss(self(x), y)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.eval_loss(logits, y), sync_dist=True)
        self.log("val/top1", (logits.argmax(-1) == y).float().mean(), sync_dist=True, prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=0.05)
        total = self.trainer.estimated_stepping_batches
        sched = get_cosine_schedule_with_warmup(opt, int(self.cfg.warmup_ratio * total), total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class INatMini(pl.LightningDataModule):
    def __init__(self, cfg: FinetuneCfg, root: str = "/data/inat2021_mini"):
        super().__init__()
        self.cfg, self.root = cfg, root
        data_cfg = resolve_data_config({}, model=cfg.model_name)
        self.train_tf = create_transform(**data_cfg, is_training=True, auto_augment="rand-m9-mstd0.5-inc1",
                                         re_prob=0.25)
        self.val_tf = create_transform(**data_cfg, is_training=False)

    def setup(self, stage=None):
        self.train_ds = ImageFolder(f"{self.root}/train", self.train_tf)
        self.val_ds = ImageFolder(f"{self.root}/val", self.val_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=16, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=256, num_workers=16)


def main():
    cfg = FinetuneCfg()
    pl.seed_everything(21, workers=True)
    model = ViTFinetune(cfg)
    trainer = pl.Trainer(
        accelerator="gpu",
        devices=8,
        strategy="ddp",
        max_epochs=cfg.epochs,
        precision="bf16-mixed",
        gradient_clip_val=1.0,
        logger=pl.loggers.WandbLogger(project="inat-vit"),
        callbacks=[
            pl.callbacks.ModelCheckpoint(monitor="val/top1", mode="max", save_top_k=2),
            pl.callbacks.EarlyStopping(monitor="val/top1", mode="max", patience=6),
            pl.callbacks.LearningRateMonitor(logging_interval="step"),
        ],
    )
    trainer.fit(model, datamodule=INatMini(cfg))
    if trainer.is_global_zero:
        best = ViTFinetune.load_from_checkpoint(trainer.checkpoint_callback.best_model_path, map_location="cpu")
        best.eval()
        best.to_onnx("vit_inat.onnx", torch.randn(1, 3, 224, 224), dynamic_axes={"input": {0: "batch"}},
                     input_names=["input"])


if __name__ == "__main__":
    main()
