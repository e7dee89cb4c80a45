"""RetinaNet for wheat-head detection (GWHD). Boxes come from a CSV; augmentation applied with torchvision v1."""

import ast

import pandas as pd
import pytorch_lightning as pl
import torch
from PIL import Image
from pydantic import BaseModel, Field
from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import CometLogger
from torch.utils.data import DataLoader, Dataset
from torchmetrics.detection import MeanAveragePrecision
from torchvision import transforms as T
from torchvision.models.detection import retinanet_resnet50_fpn_v2


class Cfg(BaseModel):
    csv: str = "gwhd/train.csv"
    val_csv: str = "gwhd/val.csv"
    lr: float = Field(1e-4, gt=0, lt=1e-2)
    batch_size: int = Field(8, ge=1)
    epochs: int = Field(40, ge=1)


class WheatDataset(Dataset):
    def __init__(self, csv_file, train: bool):
        self.df = pd.read_csv(csv_file)
        self.images = self.df["image_id"].unique()
        if train:
            self.tf = T.Compose([
                T.RandomHorizontalFlip(0.5),
                T.RandomVerticalFlip(0.5),
                T.ColorJitter(0.2, 0.2, 0.2, 0.05),
                T.ToTensor(),
            ])
        else:
            self.tf = T.ToTensor()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, idx):
        image_id = self.images[idx]
        rows = self.df[self.df["image_id"] == image_id]
        img = Image.open(f"gwhd/images/{image_id}.png").convert("RGB")
        boxes = torch.tensor([ast.literal_eval(b) for b in rows["bbox"]], dtype=torch.float32)
        boxes[:, 2:] += boxes[:, :2]
        target = {"boxes": boxes, "labels": torch.ones(len(boxes), dtype=torch.int64)}
        return self.tf(img), target


def collate(batch):
    return tuple(zip(*batch))


class WheatModule(pl.LightningModule):
    def __init__(self, cfg: Cfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.model = retinanet_resnet50_fpn_v2(weights="DEFAULT")
        self.val_map = MeanAveragePrecision()

    def training_step(self, batch, batch_idx):
        images, targets = batch
        losses = self.model(list(images), list(targets))
        loss = losses["classification"] + losses["bbox_regression"]
        self.log("train/loss", loss, batch_size=len(images))
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        self.val_map.update(self.model(list(images)), list(targets))

    def on_validation_epoch_end(self):
        self.log("val/map", self.val_map.compute()["map"])
        self.val_map.reset()

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=1e-4)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs)}


class WheatData(pl.LightningDataModule):
    def __init__(self, cfg: Cfg):
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        self.train_ds = WheatDataset(self.cfg.csv, train=True)
        self.val_ds = WheatDataset(self.cfg.val_csv, train=False)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, collate_fn=collate, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size, collate_fn=collate, num_workers=4)


if __name__ == "__main__":
    cfg = Cfg()
    pl.seed_everything(2021, workers=True)
    trainer = pl.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu",
        precision="16-mixed",
        gradient_clip_val=5.0,
        logger=CometLogger(project_name="wheat"),
        callbacks=[ModelCheckpoint(monitor="val/map", mode="max"), EarlyStopping(monitor="val/map", mode="max", patience=8),
                   LearningRateMonitor()],
    )
    model = WheatModule(cfg)
    trainer.fit(model, datamodule=WheatData(cfg))
    model.eval()
    torch.onnx.export(model.model, ([torch.rand(3, 1024, 1024)],), "retinanet_wheat.onnx", opset_version=17)
