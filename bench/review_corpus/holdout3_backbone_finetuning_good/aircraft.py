"""FGVC-Aircraft (100 variants): staged fine-tuning of a pretrained RegNetY with Lightning's BackboneFinetuning."""

from typing import Literal

import pytorch_lightning as pl
import torch
from pydantic import BaseModel, Field
from pytorch_lightning.callbacks import BackboneFinetuning, EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger
from torch import nn
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy
from torchvision.datasets import FGVCAircraft
from torchvision.models import RegNet_Y_1_6GF_Weights, regnet_y_1_6gf
from torchvision.transforms import v2


class AircraftConfig(BaseModel):
    lr: float = Field(1e-3, gt=0, lt=1e-2)
    unfreeze_at_epoch: int = Field(5, ge=0)
    epochs: int = Field(60, ge=1)
    batch_size: int = Field(32, ge=1)
    annotation_level: Literal["variant", "family", "manufacturer"] = "variant"


class AircraftNet(pl.LightningModule):
    def __init__(self, cfg: AircraftConfig):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        net = regnet_y_1_6gf(weights=RegNet_Y_1_6GF_Weights.IMAGENET1K_V2)
        self.backbone = nn.Sequential(net.stem, net.trunk_output, net.avgpool, nn.Flatten())
        self.head = nn.Linear(net.fc.in_features, 100)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
        self.train_acc = MulticlassAccuracy(num_classes=100)
        self.val_acc = MulticlassAccuracy(num_classes=100)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        self.train_acc(logits, y)
        self.log("train_loss", loss)
        self.log("train_acc", self.train_acc, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val_loss", self.criterion(logits, y))
        self.log("val_acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(filter(lambda p: p.requires_grad, self.parameters()), lr=self.cfg.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[30, 45], gamma=0.1)
        return [opt], [sched]


class AircraftData(pl.LightningDataModule):
    def __init__(self, cfg: AircraftConfig, root: str = "data"):
        super().__init__()
        self.cfg, self.root = cfg, root
        post = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        self.train_tf = v2.Compose([v2.RandomResizedCrop(320, scale=(0.35, 1.0)), v2.RandomHorizontalFlip(),
                                    v2.RandAugment(num_ops=2, magnitude=7), *post])
        self.eval_tf = v2.Compose([v2.Resize(352), v2.CenterCrop(320), *post])

    def setup(self, stage=None):
        level = self.cfg.annotation_level
        self.train_ds = FGVCAircraft(self.root, split="train", annotation_level=level, transform=self.train_tf)
        self.val_ds = FGVCAircraft(self.root, split="val", annotation_level=level, transform=self.eval_tf)
        self.test_ds = FGVCAircraft(self.root, split="test", annotation_level=level, transform=self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=64, num_workers=8)

    def test_dataloader(self):
        return DataLoader(self.test_ds, batch_size=64, num_workers=8)


def main() -> None:
    cfg = AircraftConfig()
    pl.seed_everything(737, workers=True)
    model = AircraftNet(cfg)
    trainer = pl.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu",
        devices=1,
        precision="16-mixed",
        gradient_clip_val=2.0,
        logger=[CSVLogger("logs", name="fgvc"), TensorBoardLogger("tb", name="fgvc")],
        callbacks=[
            BackboneFinetuning(unfreeze_backbone_at_epoch=cfg.unfreeze_at_epoch, backbone_initial_ratio_lr=0.1),
            ModelCheckpoint(monitor="val_acc", mode="max"),
            EarlyStopping(monitor="val_acc", mode="max", patience=10),
            LearningRateMonitor(),
        ],
    )
    data = AircraftData(cfg)
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, ckpt_path="best")
    best = AircraftNet.load_from_checkpoint(trainer.checkpoint_callback.best_model_path)
    best.eval()
    torch.onnx.export(best, (torch.randn(1, 3, 320, 320),), "fgvc_regnet.onnx", dynamo=True,
                      dynamic_shapes={"x": {0: torch.export.Dim("batch")}})


if __name__ == "__main__":
    main()
