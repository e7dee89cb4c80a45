from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytorch_lightning as pl
import torch
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader, Dataset

from seg.config import DataConfig


class VOCSegmentation(Dataset):
    def __init__(self, root: Path, split: str, transform: A.Compose) -> None:
        self.root = root
        self.ids = (root / "ImageSets" / "Segmentation" / f"{split}.txt").read_text().split()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, idx: int):
        name = self.ids[idx]
        image = cv2.cvtColor(cv2.imread(str(self.root / "JPEGImages" / f"{name}.jpg")), cv2.COLOR_BGR2RGB)
        mask = np.array(cv2.imread(str(self.root / "SegmentationClass" / f"{name}.png"), cv2.IMREAD_GRAYSCALE))
        out = self.transform(image=image, mask=mask)
        return out["image"], out["mask"].long()


class VOCDataModule(pl.LightningDataModule):
    def __init__(self, config: DataConfig) -> None:
        super().__init__()
        self.config = config
        size = config.image_size
        self.train_tf = A.Compose(
            [
                A.RandomScale(scale_limit=(-0.5, 1.0), p=1.0),
                A.PadIfNeeded(size, size, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=255),
                A.RandomCrop(size, size),
                A.HorizontalFlip(p=0.5),
                A.ColorJitter(0.3, 0.3, 0.3, 0.05, p=0.8),
                A.Normalize(),
                ToTensorV2(),
            ]
        )
        self.val_tf = A.Compose(
            [
                A.LongestMaxSize(size, interpolation=cv2.INTER_LINEAR, mask_interpolation=cv2.INTER_NEAREST),
                A.PadIfNeeded(size, size, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=255),
                A.Normalize(),
                ToTensorV2(),
            ]
        )

    def setup(self, stage: str | None = None) -> None:
        self.train_set = VOCSegmentation(self.config.root, "train", self.train_tf)
        self.val_set = VOCSegmentation(self.config.root, "val", self.val_tf)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_set,
            batch_size=self.config.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.config.num_workers,
            pin_memory=True,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=1, num_workers=self.config.num_workers)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()

    @staticmethod
    def collate_debug(batch):
        return torch.stack([b[0] for b in batch]), torch.stack([b[1] for b in batch])
