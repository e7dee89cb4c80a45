"""ADE20K (150 classes) DataModule; masks resized with the same call as images."""

import lightning as L
import torch
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision import tv_tensors
from torchvision.datasets import VisionDataset
from torchvision.io import decode_image
from torchvision.transforms import v2


class ADEConfig(BaseModel):
    root: str = "ADEChallengeData2016"
    crop: int = Field(512, ge=128)
    batch_size: int = Field(16, ge=1)


class ADE20K(VisionDataset):
    def __init__(self, root: str, split: str, image_tf, mask_tf):
        super().__init__(root)
        self.split = split
        with open(f"{root}/{split}.txt") as f:
            self.names = f.read().split()
        self.image_tf, self.mask_tf = image_tf, mask_tf

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        n = self.names[i]
        image = decode_image(f"{self.root}/images/{self.split}/{n}.jpg")
        mask = decode_image(f"{self.root}/annotations/{self.split}/{n}.png")
        if self.image_tf is None:
            image, mask = self.mask_tf(tv_tensors.Image(image), tv_tensors.Mask(mask))
            return image, mask.squeeze(0).long()
        return self.image_tf(image), self.mask_tf(mask).squeeze(0).long()


class ADEData(L.LightningDataModule):
    def __init__(self, cfg: ADEConfig):
        super().__init__()
        self.cfg = cfg
        to_float = [v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        self.train_joint = v2.Compose([v2.RandomResize(cfg.crop // 2, cfg.crop * 2), v2.RandomCrop(cfg.crop, pad_if_needed=True),
                                       v2.RandomHorizontalFlip(), *to_float])
        self.val_image_tf = v2.Compose([v2.Resize((cfg.crop, cfg.crop)), *to_float])
        self.val_mask_tf = v2.Resize((cfg.crop, cfg.crop))

    def setup(self, stage=None):
        self.train_ds = ADE20K(self.cfg.root, "training", None, self.train_joint)
        self.val_ds = ADE20K(self.cfg.root, "validation", self.val_image_tf, self.val_mask_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=4, num_workers=8)
