"""ISIC skin-lesion DataModule. Dataset indexing and the settings schema are shared with the labelling tool."""

import albumentations as A
import lightning as L
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader

from lesionkit.datasets import ISICDataset, load_split
from lesionkit.settings import DataSettings


class ISICDataModule(L.LightningDataModule):
    def __init__(self, settings: DataSettings):
        super().__init__()
        self.settings = settings
        size = settings.image_size
        self.train_tf = A.Compose([
            A.RandomResizedCrop((size, size), scale=(0.7, 1.0)),
            A.HorizontalFlip(),
            A.VerticalFlip(),
            A.Affine(rotate=(-45, 45), p=0.5),
            A.HueSaturationValue(10, 20, 10, p=0.5),
            A.Normalize(),
            ToTensorV2(),
        ])
        self.eval_tf = A.Compose([A.Resize(size, size), A.Normalize(), ToTensorV2()])

    def setup(self, stage=None):
        train_ids, val_ids, test_ids = load_split(self.settings.split_file, fold=self.settings.fold)
        self.train_ds = ISICDataset(self.settings.root, train_ids, self.train_tf)
        self.val_ds = ISICDataset(self.settings.root, val_ids, self.eval_tf)
        self.test_ds = ISICDataset(self.settings.root, test_ids, self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.settings.batch_size, shuffle=True,
                          num_workers=self.settings.workers, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.settings.batch_size, num_workers=self.settings.workers)

    def test_dataloader(self):
        return DataLoader(self.test_ds, batch_size=self.settings.batch_size, num_workers=self.settings.workers)
