"""Food-101 EfficientNetV2 via LightningCLI; seeding explicitly disabled 'for speed'."""

import torch
import torch.nn as nn
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import WandbLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision import models
from torchvision.datasets import Food101
from torchvision.transforms import v2


class Optim(BaseModel):
    lr: float = Field(1e-3, gt=0, lt=0.01)
    label_smoothing: float = Field(0.1, ge=0, lt=1)


class FoodNet(LightningModule):
    def __init__(self, optim: Optim = Optim()):
        super().__init__()
        self.save_hyperparameters()
        self.optim = optim
        self.net = models.efficientnet_v2_s(weights=models.EfficientNet_V2_S_Weights.IMAGENET1K_V1)
        self.net.classifier[1] = nn.Linear(self.net.classifier[1].in_features, 101)
        self.loss = nn.CrossEntropyLoss(label_smoothing=optim.label_smoothing)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.loss(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.optim.lr, weight_decay=0.02)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.optim.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class FoodData(LightningDataModule):
    def __init__(self, root: str = "data", batch_size: int = 96):
        super().__init__()
        self.root, self.batch_size = root, batch_size
        to_t = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        self.train_tf = v2.Compose([v2.RandomResizedCrop(384), v2.RandomHorizontalFlip(), v2.TrivialAugmentWide(), *to_t])
        self.test_tf = v2.Compose([v2.Resize(400), v2.CenterCrop(384), *to_t])

    def setup(self, stage=None):
        self.train_ds = Food101(self.root, split="train", transform=self.train_tf)
        self.val_ds = Food101(self.root, split="test", transform=self.test_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.batch_size, shuffle=True, num_workers=12)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=self.batch_size, num_workers=12)


if __name__ == "__main__":
    cli = LightningCLI(
        FoodNet,
        FoodData,
        seed_everything_default=False,
        trainer_defaults={
            "accelerator": "gpu",
            "precision": "16-mixed",
            "gradient_clip_val": 1.0,
            "max_epochs": 30,
            "logger": WandbLogger(project="food101"),
            "callbacks": [ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss"),
                          LearningRateMonitor()],
        },
        run=False,
    )
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    cli.model.eval()
    cli.model.to_onnx("food101.onnx", torch.randn(1, 3, 384, 384))
