"""Image tagging: predict which of the 80 COCO categories appear in an image (several per image)."""

import json

import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from PIL import Image
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, Dataset
from torchmetrics.classification import MultilabelAveragePrecision
from torchvision import models, transforms


class TagConfig(BaseModel):
    ann_train: str = "coco/annotations/instances_train2017.json"
    ann_val: str = "coco/annotations/instances_val2017.json"
    lr: float = Field(2e-4, gt=0, lt=1e-2)
    batch_size: int = Field(64, ge=1)
    epochs: int = Field(20, ge=1)


class CocoTags(Dataset):
    def __init__(self, ann_file: str, image_dir: str, transform):
        ann = json.load(open(ann_file))
        cats = sorted(c["id"] for c in ann["categories"])
        self.cat_index = {c: i for i, c in enumerate(cats)}
        self.files = {img["id"]: img["file_name"] for img in ann["images"]}
        self.tags: dict[int, set[int]] = {}
        for a in ann["annotations"]:
            self.tags.setdefault(a["image_id"], set()).add(self.cat_index[a["category_id"]])
        self.ids = sorted(self.tags)
        self.image_dir, self.transform = image_dir, transform

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        image_id = self.ids[i]
        img = Image.open(f"{self.image_dir}/{self.files[image_id]}").convert("RGB")
        target = torch.zeros(80)
        target[list(self.tags[image_id])] = 1.0
        return self.transform(img), target


class Tagger(L.LightningModule):
    def __init__(self, cfg: TagConfig):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.net = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
        self.net.fc = nn.Linear(self.net.fc.in_features, 80)
        self.criterion = nn.CrossEntropyLoss()
        self.val_map = MultilabelAveragePrecision(num_labels=80)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.criterion(logits, y))
        self.val_map(logits, y.int())
        self.log("val/mAP", self.val_map, prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=1e-4)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs)}


class CocoTagData(L.LightningDataModule):
    def __init__(self, cfg: TagConfig):
        super().__init__()
        self.cfg = cfg
        norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        self.train_tf = transforms.Compose([transforms.RandomResizedCrop(320, scale=(0.5, 1.0)),
                                            transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm])
        self.val_tf = transforms.Compose([transforms.Resize((320, 320)), transforms.ToTensor(), norm])

    def setup(self, stage=None):
        self.train_ds = CocoTags(self.cfg.ann_train, "coco/train2017", self.train_tf)
        self.val_ds = CocoTags(self.cfg.ann_val, "coco/val2017", self.val_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.cfg.batch_size, num_workers=8)


if __name__ == "__main__":
    cfg = TagConfig()
    L.seed_everything(80, workers=True)
    model = Tagger(cfg)
    trainer = L.Trainer(max_epochs=cfg.epochs, accelerator="gpu", precision="16-mixed", gradient_clip_val=1.0,
                        logger=WandbLogger(project="coco-tags"),
                        callbacks=[ModelCheckpoint(monitor="val/mAP", mode="max"),
                                   EarlyStopping(monitor="val/mAP", mode="max", patience=5), LearningRateMonitor()])
    trainer.fit(model, datamodule=CocoTagData(cfg))
    model.eval()
    model.to_onnx("coco_tagger.onnx", torch.randn(1, 3, 320, 320), dynamic_axes={"input": {0: "batch"}}, input_names=["input"])
