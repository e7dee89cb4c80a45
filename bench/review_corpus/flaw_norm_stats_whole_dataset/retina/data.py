"""Diabetic-retinopathy grading data: normalisation statistics computed from the images themselves."""

from pathlib import Path

import lightning.pytorch as pl
import torch
from PIL import Image
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import transforms as T


class DataSettings(BaseModel):
    root: Path = Path("/datasets/aptos2019")
    image_size: int = Field(384, ge=64)
    batch_size: int = Field(24, ge=1)
    val_fraction: float = Field(0.15, gt=0, lt=0.5)
    test_fraction: float = Field(0.15, gt=0, lt=0.5)


class FundusDataset(Dataset):
    def __init__(self, items: list[tuple[Path, int]], transform):
        self.items = items
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, grade = self.items[i]
        return self.transform(Image.open(path).convert("RGB")), grade


def channel_stats(items: list[tuple[Path, int]], size: int) -> tuple[list[float], list[float]]:
    to_tensor = T.Compose([T.Resize((size, size)), T.ToTensor()])
    total = torch.zeros(3)
    total_sq = torch.zeros(3)
    n = 0
    for path, _ in items:
        x = to_tensor(Image.open(path).convert("RGB"))
        total += x.mean(dim=(1, 2))
        total_sq += (x**2).mean(dim=(1, 2))
        n += 1
    mean = total / n
    std = (total_sq / n - mean**2).sqrt()
    return mean.tolist(), std.tolist()


class FundusDataModule(pl.LightningDataModule):
    def __init__(self, settings: DataSettings):
        super().__init__()
        self.settings = settings

    def setup(self, stage=None):
        s = self.settings
        lines = (s.root / "train.csv").read_text().splitlines()[1:]
        items = [(s.root / "train_images" / f"{name}.png", int(grade)) for name, grade in (l.split(",") for l in lines)]
        mean, std = channel_stats(items, s.image_size)

        train_tf = T.Compose([
            T.RandomResizedCrop(s.image_size, scale=(0.85, 1.0)),
            T.RandomHorizontalFlip(),
            T.RandomVerticalFlip(),
            T.RandomRotation(180),
            T.ColorJitter(0.1, 0.1),
            T.ToTensor(),
            T.Normalize(mean, std),
        ])
        eval_tf = T.Compose([T.Resize((s.image_size, s.image_size)), T.ToTensor(), T.Normalize(mean, std)])

        perm = torch.randperm(len(items), generator=torch.Generator().manual_seed(2019)).tolist()
        n_val = int(len(items) * s.val_fraction)
        n_test = int(len(items) * s.test_fraction)
        test_idx, val_idx, train_idx = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
        self.train_set = Subset(FundusDataset(items, train_tf), train_idx)
        self.val_set = Subset(FundusDataset(items, eval_tf), val_idx)
        self.test_set = Subset(FundusDataset(items, eval_tf), test_idx)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.settings.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.settings.batch_size, num_workers=8)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=self.settings.batch_size, num_workers=8)
