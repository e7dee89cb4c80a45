import lightning as L
import torch
from torch.utils.data import DataLoader
from torchvision import tv_tensors
from torchvision.datasets import VOCSegmentation
from torchvision.transforms import v2


class VOCJoint(VOCSegmentation):
    """Wraps image and mask as tv_tensors so one v2 pipeline transforms both with the same parameters."""

    def __init__(self, root: str, image_set: str, pipeline: v2.Compose) -> None:
        super().__init__(root, year="2012", image_set=image_set)
        self.pipeline = pipeline

    def __getitem__(self, i):
        image, mask = super().__getitem__(i)
        image, mask = self.pipeline(tv_tensors.Image(v2.functional.pil_to_tensor(image)),
                                    tv_tensors.Mask(v2.functional.pil_to_tensor(mask)))
        return image, mask.squeeze(0).long()


class VOCData(L.LightningDataModule):
    def __init__(self, root: str, crop: int, batch_size: int, num_workers: int) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        norm = [v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        self.train_pipe = v2.Compose([v2.RandomResize(int(crop * 0.5), int(crop * 2.0)),
                                      v2.RandomCrop(crop, pad_if_needed=True, fill={tv_tensors.Mask: 255, "others": 0}),
                                      v2.RandomHorizontalFlip(), v2.ColorJitter(0.2, 0.2, 0.2), *norm])
        self.val_pipe = v2.Compose([v2.Resize(crop), v2.CenterCrop(crop), *norm])

    def setup(self, stage=None):
        self.train_ds = VOCJoint(self.hparams.root, "train", self.train_pipe)
        self.val_ds = VOCJoint(self.hparams.root, "val", self.val_pipe)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=1, num_workers=self.hparams.num_workers)
