"""Carvana car-mask segmentation with a hand-written joint transform (same random params for image and mask)."""

import random
from pathlib import Path

import lightning as L
import torch
import torch.nn as nn
import torchvision.transforms.functional as TF
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from PIL import Image
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T


class CarvanaCfg(BaseModel):
    root: Path = Path("carvana")
    size: int = Field(512, ge=64)
    lr: float = Field(1e-3, gt=0, lt=1e-2)
    epochs: int = Field(20, ge=1)


class JointTransform:
    def __init__(self, size: int, train: bool):
        self.size, self.train = size, train

    def __call__(self, image: Image.Image, mask: Image.Image):
        image = TF.resize(image, [self.size, self.size], interpolation=T.InterpolationMode.BILINEAR)
        mask = TF.resize(mask, [self.size, self.size], interpolation=T.InterpolationMode.NEAREST)
        if self.train:
            if random.random() < 0.5:
                image, mask = TF.hflip(image), TF.hflip(mask)
            angle = random.uniform(-10, 10)
            image = TF.rotate(image, angle, interpolation=T.InterpolationMode.BILINEAR)
            mask = TF.rotate(mask, angle, interpolation=T.InterpolationMode.NEAREST)
            image = T.ColorJitter(0.2, 0.2, 0.2)(image)
        return TF.to_tensor(image), (TF.pil_to_tensor(mask) > 0).float()


class Carvana(Dataset):
    def __init__(self, root: Path, names: list[str], transform: JointTransform):
        self.root, self.names, self.transform = root, names, transform

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        name = self.names[i]
        image = Image.open(self.root / "train" / f"{name}.jpg").convert("RGB")
        mask = Image.open(self.root / "train_masks" / f"{name}_mask.gif").convert("L")
        return self.transform(image, mask)


class CarvanaData(L.LightningDataModule):
    def __init__(self, cfg: CarvanaCfg):
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        names = sorted(p.stem for p in (self.cfg.root / "train").glob("*.jpg"))
        cars = sorted({n.split("_")[0] for n in names})
        g = torch.Generator().manual_seed(0)
        val_cars = {cars[i] for i in torch.randperm(len(cars), generator=g)[: len(cars) // 10].tolist()}
        train_names = [n for n in names if n.split("_")[0] not in val_cars]
        val_names = [n for n in names if n.split("_")[0] in val_cars]
        self.train_ds = Carvana(self.cfg.root, train_names, JointTransform(self.cfg.size, train=True))
        self.val_ds = Carvana(self.cfg.root, val_names, JointTransform(self.cfg.size, train=False))

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=8, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=8, num_workers=8)


class TinyUNet(L.LightningModule):
    def __init__(self, cfg: CarvanaCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.enc = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU())
        self.down = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.head = nn.Conv2d(64, 1, 1)
        self.loss = nn.BCEWithLogitsLoss()

    def forward(self, x):
        e = self.enc(x)
        return self.head(torch.cat([e, self.up(self.down(e))], dim=1))

    def training_step(self, batch, batch_idx):
        x, m = batch
        loss = self.loss(self(x), m)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, m = batch
        logits = self(x)
        pred = (logits > 0).float()
        dice = (2 * (pred * m).sum() + 1) / (pred.sum() + m.sum() + 1)
        self.log("val/loss", self.loss(logits, m))
        self.log("val/dice", dice)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.cfg.lr)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=2, factor=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/dice"}}


if __name__ == "__main__":
    cfg = CarvanaCfg()
    L.seed_everything(2017, workers=True)
    model = TinyUNet(cfg)
    trainer = L.Trainer(max_epochs=cfg.epochs, accelerator="gpu", precision="16-mixed", gradient_clip_val=1.0,
                        logger=WandbLogger(project="carvana"),
                        callbacks=[ModelCheckpoint(monitor="val/dice", mode="max"),
                                   EarlyStopping(monitor="val/dice", mode="max", patience=5), LearningRateMonitor()])
    trainer.fit(model, datamodule=CarvanaData(cfg))
    model.eval()
    model.to_onnx("carvana_unet.onnx", torch.randn(1, 3, cfg.size, cfg.size))
