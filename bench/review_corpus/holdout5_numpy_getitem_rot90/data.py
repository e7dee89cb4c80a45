import random
from pathlib import Path

import cv2
import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class RoadCracks(Dataset):
    """Crack segmentation tiles: <root>/<split>/img/*.png with <root>/<split>/gt/*.png."""

    def __init__(self, root: str, split: str, augment: bool) -> None:
        self.files = sorted((Path(root) / split / "img").glob("*.png"))
        self.augment = augment

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, idx: int):
        path = self.files[idx]
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        gt = cv2.imread(str(path).replace("/img/", "/gt/"), cv2.IMREAD_GRAYSCALE)
        if self.augment:
            if random.random() < 0.5:
                img = np.fliplr(img)
                gt = np.fliplr(gt)
            k = random.randint(0, 3)
            img = np.rot90(img, k)
        img = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float() / 255.0
        gt = torch.from_numpy((np.ascontiguousarray(gt) > 0).astype(np.float32)).unsqueeze(0)
        return img, gt


class CrackData(L.LightningDataModule):
    def __init__(self, root: str = "data/cracks", batch_size: int = 16) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size

    def setup(self, stage=None):
        self.train_set = RoadCracks(self.root, "train", augment=True)
        self.val_set = RoadCracks(self.root, "val", augment=False)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=4)
