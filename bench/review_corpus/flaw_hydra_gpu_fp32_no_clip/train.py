"""Hydra entry point; every config group is validated by a pydantic model before use."""

from pathlib import Path

import hydra
import lightning as L
import torch
import torch.nn as nn
from hydra.utils import instantiate
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from omegaconf import DictConfig, OmegaConf
from pydantic import BaseModel, Field, PositiveInt
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy
from torchvision import models
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2


class ModelConfig(BaseModel):
    backbone: str = "resnet50"
    num_classes: PositiveInt
    lr: float = Field(gt=0, le=1e-2)
    weight_decay: float = Field(ge=0, default=1e-4)
    warmup_epochs: int = Field(ge=0, default=2)


class DataConfig(BaseModel):
    data_dir: Path
    batch_size: PositiveInt = 64
    num_workers: int = Field(ge=0, default=8)
    image_size: int = Field(ge=32, default=224)


class Classifier(L.LightningModule):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.backbone = getattr(models, cfg.backbone)(weights="IMAGENET1K_V2")
        self.backbone.fc = nn.Linear(self.backbone.fc.in_features, cfg.num_classes)
        self.criterion = nn.CrossEntropyLoss()
        self.train_acc = MulticlassAccuracy(num_classes=cfg.num_classes)
        self.val_acc = MulticlassAccuracy(num_classes=cfg.num_classes)

    def forward(self, x):
        return self.backbone(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        self.train_acc(logits, y)
        self.log("train/loss", loss)
        self.log("train/acc", self.train_acc, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val/loss", self.criterion(logits, y))
        self.log("val/acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        warmup = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=self.cfg.warmup_epochs)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs - self.cfg.warmup_epochs)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[self.cfg.warmup_epochs])
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


class FolderData(L.LightningDataModule):
    def __init__(self, cfg: DataConfig):
        super().__init__()
        self.cfg = cfg
        norm = v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        to_tensor = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
        self.train_tf = v2.Compose([v2.RandomResizedCrop(cfg.image_size), v2.RandomHorizontalFlip(),
                                    v2.AutoAugment(), *to_tensor, norm])
        self.val_tf = v2.Compose([v2.Resize(cfg.image_size + 32), v2.CenterCrop(cfg.image_size), *to_tensor, norm])

    def setup(self, stage=None):
        self.train_ds = ImageFolder(self.cfg.data_dir / "train", self.train_tf)
        self.val_ds = ImageFolder(self.cfg.data_dir / "val", self.val_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=self.cfg.num_workers)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size, num_workers=self.cfg.num_workers)


@hydra.main(config_path="configs", config_name="config", version_base=None)
def main(cfg: DictConfig) -> float:
    L.seed_everything(cfg.seed, workers=True)
    model_cfg = ModelConfig(**OmegaConf.to_container(cfg.model, resolve=True))
    data_cfg = DataConfig(**OmegaConf.to_container(cfg.data, resolve=True))
    model = Classifier(model_cfg)
    trainer = L.Trainer(
        **cfg.trainer,
        logger=instantiate(cfg.logger),
        callbacks=[
            ModelCheckpoint(monitor="val/acc", mode="max", save_top_k=3),
            EarlyStopping(monitor="val/loss", patience=10),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(model, datamodule=FolderData(data_cfg))
    best = Classifier.load_from_checkpoint(trainer.checkpoint_callback.best_model_path)
    best.eval()
    best.to_onnx("classifier.onnx", torch.randn(1, 3, data_cfg.image_size, data_cfg.image_size),
                 dynamic_axes={"input": {0: "batch"}}, input_names=["input"])
    return trainer.callback_metrics["val/acc"].item()


if __name__ == "__main__":
    main()
