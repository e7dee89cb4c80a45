"""Keypoint R-CNN fine-tuning on a 17-keypoint COCO-person subset."""

import json

import pytorch_lightning as pl
import torch
from PIL import Image
from pydantic import BaseModel, Field
from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import WandbLogger
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.models.detection import keypointrcnn_resnet50_fpn
from torchvision.transforms import v2


class PoseCfg(BaseModel):
    ann_train: str = "coco/person_keypoints_train.json"
    ann_val: str = "coco/person_keypoints_val.json"
    lr: float = Field(0.005, gt=0, le=0.05)
    epochs: int = Field(30, ge=1)


class PersonKeypoints(Dataset):
    def __init__(self, ann_file: str, train: bool):
        data = json.load(open(ann_file))
        self.images = data["images"]
        self.by_image = {}
        for a in data["annotations"]:
            self.by_image.setdefault(a["image_id"], []).append(a)
        self.train = train
        self.flip = v2.RandomHorizontalFlip(p=0.5)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        info = self.images[i]
        img = tv_tensors.Image(v2.functional.pil_to_tensor(Image.open(f"coco/images/{info['file_name']}").convert("RGB")))
        anns = self.by_image.get(info["id"], [])
        boxes = tv_tensors.BoundingBoxes([a["bbox"] for a in anns], format="XYWH", canvas_size=img.shape[-2:])
        boxes = v2.functional.convert_bounding_box_format(boxes, new_format="XYXY")
        kps = torch.tensor([a["keypoints"] for a in anns], dtype=torch.float32).view(-1, 17, 3)
        keypoints = tv_tensors.KeyPoints(kps[..., :2], canvas_size=img.shape[-2:])
        target = {"boxes": boxes, "labels": torch.ones(len(anns), dtype=torch.int64), "keypoints": keypoints,
                  "visibility": kps[..., 2]}
        if self.train:
            img, target = self.flip(img, target)
        target["keypoints"] = torch.cat([target["keypoints"], target.pop("visibility").unsqueeze(-1)], dim=-1)
        return v2.functional.to_dtype(img, torch.float32, scale=True), target


def collate(batch):
    return tuple(zip(*batch))


class PoseModule(pl.LightningModule):
    def __init__(self, cfg: PoseCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.model = keypointrcnn_resnet50_fpn(weights=None, weights_backbone="DEFAULT", num_keypoints=17)

    def forward(self, images):
        return self.model(images)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        losses = self.model(list(images), list(targets))
        loss = sum(losses.values())
        self.log("train/loss", loss, batch_size=len(images))
        self.log("train/loss_keypoint", losses["loss_keypoint"], batch_size=len(images))
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        self.model.train()
        with torch.no_grad():
            losses = self.model(list(images), list(targets))
        self.model.eval()
        self.log("val/loss", sum(losses.values()), batch_size=len(images))

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.cfg.lr, momentum=0.9, weight_decay=1e-4)
        return [opt], [torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[20, 26], gamma=0.1)]


class PoseData(pl.LightningDataModule):
    def __init__(self, cfg: PoseCfg):
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        self.train_ds = PersonKeypoints(self.cfg.ann_train, train=True)
        self.val_ds = PersonKeypoints(self.cfg.ann_val, train=False)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=4, shuffle=True, collate_fn=collate, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=4, collate_fn=collate, num_workers=4)


if __name__ == "__main__":
    cfg = PoseCfg()
    pl.seed_everything(17, workers=True)
    model = PoseModule(cfg)
    trainer = pl.Trainer(max_epochs=cfg.epochs, accelerator="gpu", precision="16-mixed", gradient_clip_val=10.0,
                         logger=WandbLogger(project="pose"),
                         callbacks=[ModelCheckpoint(monitor="val/loss"), EarlyStopping(monitor="val/loss", patience=5),
                                    LearningRateMonitor()])
    trainer.fit(model, datamodule=PoseData(cfg))
    model.eval()
    torch.onnx.export(model.model, ([torch.rand(3, 512, 512)],), "keypointrcnn.onnx", opset_version=17)
