import cv2
import lightning as L
from torch.utils.data import DataLoader, Dataset

from polyp.transforms import get_train_transforms, get_val_transforms
from polypconf.schema import ExperimentConfig


class KvasirSeg(Dataset):
    def __init__(self, list_file: str, transform):
        self.names = open(list_file).read().split()
        self.transform = transform

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        name = self.names[i]
        image = cv2.cvtColor(cv2.imread(f"kvasir/images/{name}.jpg"), cv2.COLOR_BGR2RGB)
        mask = (cv2.imread(f"kvasir/masks/{name}.jpg", cv2.IMREAD_GRAYSCALE) > 127).astype("float32")
        out = self.transform(image=image, mask=mask)
        return {"image": out["image"], "mask": out["mask"].unsqueeze(0)}


class KvasirData(L.LightningDataModule):
    def __init__(self, cfg: ExperimentConfig):
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        self.train_ds = KvasirSeg("kvasir/train.txt", get_train_transforms(self.cfg.image_size))
        self.val_ds = KvasirSeg("kvasir/val.txt", get_val_transforms(self.cfg.image_size))

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=6)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size, num_workers=6)
