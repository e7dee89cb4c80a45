"""5-fold cross-validation DataModule for a small histopathology patch data set (grouped by slide)."""

from pathlib import Path

import pandas as pd
import pytorch_lightning as pl
import torch
from PIL import Image
from pydantic import BaseModel, Field
from sklearn.model_selection import StratifiedGroupKFold
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2


class FoldConfig(BaseModel):
    csv: Path = Path("patches/labels.csv")
    n_splits: int = Field(5, ge=2, le=10)
    fold: int = Field(0, ge=0)
    batch_size: int = Field(128, ge=1)
    seed: int = 42


class PatchDataset(Dataset):
    def __init__(self, frame: pd.DataFrame, transform):
        self.frame = frame.reset_index(drop=True)
        self.transform = transform

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, i):
        row = self.frame.loc[i]
        return self.transform(Image.open(row.path).convert("RGB")), int(row.label)


class HistoKFold(pl.LightningDataModule):
    def __init__(self, cfg: FoldConfig):
        super().__init__()
        self.cfg = cfg
        stain_safe = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.7, 0.55, 0.7], [0.15, 0.2, 0.15])]
        self.train_tf = v2.Compose([v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(), v2.RandomChoice(
            [v2.RandomRotation((0, 0)), v2.RandomRotation((90, 90)), v2.RandomRotation((180, 180)), v2.RandomRotation((270, 270))]),
            v2.ColorJitter(brightness=0.1, contrast=0.1, saturation=0.05, hue=0.02), *stain_safe])
        self.eval_tf = v2.Compose(stain_safe)

    def setup(self, stage=None):
        frame = pd.read_csv(self.cfg.csv)
        splitter = StratifiedGroupKFold(n_splits=self.cfg.n_splits, shuffle=True, random_state=self.cfg.seed)
        folds = list(splitter.split(frame, frame["label"], groups=frame["slide_id"]))
        train_idx, val_idx = folds[self.cfg.fold]
        self.train_ds = PatchDataset(frame.iloc[train_idx], self.train_tf)
        self.val_ds = PatchDataset(frame.iloc[val_idx], self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8, pin_memory=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size * 2, num_workers=8)
