import json
from pathlib import Path

import lightning as L
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2


def collate(batch):
    return tuple(zip(*batch))


class PennFudan(Dataset):
    """Pedestrian boxes from a COCO-style json, returned as tv_tensors so v2 transforms move them."""

    def __init__(self, root: Path, ann_file: str, transforms: v2.Compose):
        self.root = root
        self.anns = json.loads((root / ann_file).read_text())
        self.transforms = transforms

    def __len__(self):
        return len(self.anns["images"])

    def __getitem__(self, i):
        info = self.anns["images"][i]
        img = tv_tensors.Image(v2.functional.pil_to_tensor(Image.open(self.root / info["file_name"]).convert("RGB")))
        objs = [a for a in self.anns["annotations"] if a["image_id"] == info["id"]]
        boxes = tv_tensors.BoundingBoxes(
            [a["bbox"] for a in objs], format="XYWH", canvas_size=img.shape[-2:]
        )
        target = {"boxes": v2.functional.convert_bounding_box_format(boxes, new_format="XYXY"),
                  "labels": torch.tensor([a["category_id"] for a in objs], dtype=torch.int64)}
        return self.transforms(img, target)


class DetectionData(L.LightningDataModule):
    def __init__(self, root: str = "data/PennFudanPed", batch_size: int = 4):
        super().__init__()
        self.root = Path(root)
        self.batch_size = batch_size
        self.train_tf = v2.Compose([
            v2.RandomPhotometricDistort(p=0.5),
            v2.RandomZoomOut(fill={tv_tensors.Image: (123, 117, 104), "others": 0}),
            v2.RandomIoUCrop(),
            v2.RandomHorizontalFlip(p=0.5),
            v2.SanitizeBoundingBoxes(),
            v2.ToDtype(torch.float32, scale=True),
        ])
        self.eval_tf = v2.Compose([v2.ToDtype(torch.float32, scale=True)])

    def setup(self, stage=None):
        self.train_ds = PennFudan(self.root, "annotations/train.json", self.train_tf)
        self.val_ds = PennFudan(self.root, "annotations/val.json", self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.batch_size, shuffle=True, num_workers=4, collate_fn=collate)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.batch_size, shuffle=False, num_workers=4, collate_fn=collate)
