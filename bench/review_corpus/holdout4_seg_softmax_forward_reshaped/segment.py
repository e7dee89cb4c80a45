"""Road-scene segmentation (research code style): a UNet-ish head on a ResNet encoder, flattened-pixel loss."""

from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from pydantic import BaseModel, Field
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchmetrics.classification import MulticlassJaccardIndex
from torchvision import tv_tensors
from torchvision.io import read_image
from torchvision.models import resnet34
from torchvision.transforms import v2


class Opts(BaseModel):
    root: str = "data/roads"
    num_classes: int = Field(19, ge=2)
    lr: float = Field(3e-4, gt=0, lt=1e-2)
    epochs: int = Field(80, ge=1)
    batch_size: int = Field(8, ge=1)
    crop: int = Field(512, ge=64)
    precision: Literal["16-mixed", "bf16-mixed"] = "bf16-mixed"


class RoadScenes(Dataset):
    def __init__(self, root: str, split: str, transform: v2.Transform) -> None:
        with open(f"{root}/{split}.txt") as handle:
            self.names = [line.strip() for line in handle if line.strip()]
        self.root, self.split, self.transform = root, split, transform

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int):
        image = tv_tensors.Image(read_image(f"{self.root}/images/{self.names[i]}.png"))
        mask = tv_tensors.Mask(read_image(f"{self.root}/labels/{self.names[i]}.png")[0].long())
        return self.transform(image, mask)


class RoadData(L.LightningDataModule):
    def __init__(self, opts: Opts) -> None:
        super().__init__()
        self.opts = opts
        norm = [v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        self.train_tf = v2.Compose(
            [v2.RandomResizedCrop(opts.crop, scale=(0.5, 1.0)), v2.RandomHorizontalFlip(), v2.ColorJitter(0.2, 0.2), *norm]
        )
        self.eval_tf = v2.Compose([v2.Resize(opts.crop), *norm])

    def setup(self, stage=None):
        self.train_set = RoadScenes(self.opts.root, "train", self.train_tf)
        self.val_set = RoadScenes(self.opts.root, "val", self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.opts.batch_size, shuffle=True, num_workers=6, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.opts.batch_size, num_workers=6)


class RoadSegmenter(L.LightningModule):
    def __init__(self, opts: Opts) -> None:
        super().__init__()
        self.save_hyperparameters(opts.model_dump())
        self.opts = opts
        encoder = resnet34(weights=None)
        self.encoder = nn.Sequential(*list(encoder.children())[:-2])
        self.decoder = nn.Sequential(nn.Conv2d(512, 128, 3, padding=1), nn.ReLU(), nn.Conv2d(128, opts.num_classes, 1))
        self.train_iou = MulticlassJaccardIndex(num_classes=opts.num_classes)
        self.val_iou = MulticlassJaccardIndex(num_classes=opts.num_classes)

    def forward(self, x):
        features = self.decoder(self.encoder(x))
        scores = F.interpolate(features, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return torch.softmax(scores, dim=1)

    def _loss(self, out, mask):
        n = self.opts.num_classes
        return F.cross_entropy(out.permute(0, 2, 3, 1).reshape(-1, n), mask.reshape(-1), ignore_index=255)

    def training_step(self, batch, batch_idx):
        image, mask = batch
        out = self(image)
        loss = F.cross_entropy(out.permute(0, 2, 3, 1).reshape(-1, self.opts.num_classes), mask.reshape(-1))
        self.train_iou(out.argmax(1), mask)
        self.log("train/loss", loss)
        self.log("train/iou", self.train_iou, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        image, mask = batch
        out = self(image)
        self.val_iou(out.argmax(1), mask)
        self.log("val/loss", self._loss(out, mask))
        self.log("val/iou", self.val_iou)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.opts.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=self.opts.epochs, power=0.9)
        return {"optimizer": opt, "lr_scheduler": sched}


def main() -> None:
    opts = Opts()
    L.seed_everything(3407, workers=True)
    model = RoadSegmenter(opts)
    data = RoadData(opts)
    trainer = L.Trainer(
        max_epochs=opts.epochs,
        precision=opts.precision,
        gradient_clip_val=1.0,
        logger=TensorBoardLogger("tb_logs", name="roads"),
        callbacks=[
            ModelCheckpoint(monitor="val/iou", mode="max"),
            EarlyStopping(monitor="val/iou", mode="max", patience=15),
            LearningRateMonitor(logging_interval="epoch"),
        ],
    )
    trainer.fit(model, datamodule=data)
    model.eval()
    model.to_onnx("roads.onnx", torch.randn(1, 3, opts.crop, opts.crop), dynamo=True)


if __name__ == "__main__":
    main()
