from pathlib import Path

import lightning as L
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

MEAN, STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


class UTKFace(Dataset):
    """Files are named <age>_<gender>_<race>_<date>.jpg."""

    def __init__(self, root: str, transform) -> None:
        self.files = sorted(Path(root).glob("*.jpg"))
        self.transform = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, idx):
        path = self.files[idx]
        age, gender = (int(v) for v in path.name.split("_")[:2])
        attrs = torch.nn.functional.one_hot(torch.tensor(gender), 2)
        return self.transform(Image.open(path).convert("RGB")), torch.tensor(age), attrs


class UTKFaceData(L.LightningDataModule):
    def __init__(self, root: str = "data/utkface", batch_size: int = 64) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size

    def setup(self, stage=None):
        train_tf = T.Compose([T.RandomResizedCrop(200, scale=(0.8, 1.0)), T.RandomHorizontalFlip(),
                              T.ToTensor(), T.Normalize(MEAN, STD)])
        eval_tf = T.Compose([T.Resize(200), T.ToTensor(), T.Normalize(MEAN, STD)])
        self.train_set = UTKFace(f"{self.root}/train", train_tf)
        self.val_set = UTKFace(f"{self.root}/val", eval_tf)
        self.test_set = UTKFace(f"{self.root}/test", eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=8)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=self.batch_size, num_workers=8)
