"""Plant-disease (PlantVillage) DataModule with a train/val folder split prepared offline."""

import lightning.pytorch as pl
import torch
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2


class PlantDataConfig(BaseModel):
    root: str = "data/plantvillage_split"
    image_size: int = Field(256, ge=64)
    batch_size: int = Field(64, ge=1)
    num_workers: int = Field(8, ge=0)


def build_transform(size: int) -> v2.Compose:
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.7, 1.0)),
        v2.RandomHorizontalFlip(),
        v2.RandomVerticalFlip(),
        v2.ColorJitter(0.2, 0.2, 0.2),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
    ])


class PlantVillageDM(pl.LightningDataModule):
    def __init__(self, cfg: PlantDataConfig):
        super().__init__()
        self.cfg = cfg
        self.transform = build_transform(cfg.image_size)

    def setup(self, stage=None):
        self.train_ds = ImageFolder(f"{self.cfg.root}/train", transform=self.transform)
        self.val_ds = ImageFolder(f"{self.cfg.root}/val", transform=self.transform)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=self.cfg.num_workers)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size, num_workers=self.cfg.num_workers)
