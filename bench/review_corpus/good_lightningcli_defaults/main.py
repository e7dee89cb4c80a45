"""CIFAR-10 ResNet trained from scratch, driven by LightningCLI.

Run: python main.py --config cifar.yaml   (any trainer/model/data field can be overridden there)
"""

from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import TensorBoardLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, random_split
from torchmetrics.classification import MulticlassAccuracy
from torchvision import transforms as T
from torchvision.datasets import CIFAR10
from torchvision.models import resnet18

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


class OptimConfig(BaseModel):
    lr: float = Field(default=0.1, gt=0, le=1.0)
    momentum: float = Field(default=0.9, ge=0, lt=1)
    weight_decay: float = Field(default=5e-4, ge=0)
    optimizer: Literal["sgd", "adamw"] = "sgd"


class CifarResNet(LightningModule):
    def __init__(self, optim: OptimConfig = OptimConfig(), num_classes: int = 10) -> None:
        super().__init__()
        self.save_hyperparameters()
        net = resnet18(weights=None, num_classes=num_classes)
        net.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
        self.net = net
        self.optim = optim
        self.train_acc = MulticlassAccuracy(num_classes=num_classes)
        self.val_acc = MulticlassAccuracy(num_classes=num_classes)
        self.example_input_array = torch.zeros(1, 3, 32, 32)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.train_acc(logits, y)
        self.log_dict({"train/loss": loss, "train/acc": self.train_acc}, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log_dict({"val/loss": F.cross_entropy(logits, y), "val/acc": self.val_acc}, on_epoch=True)

    def configure_optimizers(self):
        if self.optim.optimizer == "sgd":
            optimizer = torch.optim.SGD(
                self.parameters(), lr=self.optim.lr, momentum=self.optim.momentum,
                weight_decay=self.optim.weight_decay, nesterov=True,
            )
        else:
            optimizer = torch.optim.AdamW(self.parameters(), lr=self.optim.lr, weight_decay=self.optim.weight_decay)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.optim.lr, total_steps=self.trainer.estimated_stepping_batches
        )
        return [optimizer], [{"scheduler": scheduler, "interval": "step"}]


class CIFAR10DataModule(LightningDataModule):
    def __init__(self, data_dir: str = "./data", batch_size: int = 256, num_workers: int = 8) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.train_tf = T.Compose([
            T.RandomCrop(32, padding=4, padding_mode="reflect"),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize(CIFAR_MEAN, CIFAR_STD),
        ])
        self.test_tf = T.Compose([T.ToTensor(), T.Normalize(CIFAR_MEAN, CIFAR_STD)])

    def prepare_data(self):
        CIFAR10(self.data_dir, train=True, download=True)
        CIFAR10(self.data_dir, train=False, download=True)

    def setup(self, stage=None):
        if stage in ("fit", None):
            train_full = CIFAR10(self.data_dir, train=True, transform=self.train_tf)
            val_full = CIFAR10(self.data_dir, train=True, transform=self.test_tf)
            gen = torch.Generator().manual_seed(0)
            train_idx, val_idx = random_split(range(len(train_full)), [45_000, 5_000], generator=gen)
            self.train_set = torch.utils.data.Subset(train_full, train_idx.indices)
            self.val_set = torch.utils.data.Subset(val_full, val_idx.indices)
        if stage in ("test", None):
            self.test_set = CIFAR10(self.data_dir, train=False, transform=self.test_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True,
                          num_workers=self.num_workers, pin_memory=True, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=512, num_workers=self.num_workers)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=512, num_workers=self.num_workers)


def cli_main() -> None:
    cli = LightningCLI(
        CifarResNet,
        CIFAR10DataModule,
        seed_everything_default=2024,
        trainer_defaults={
            "max_epochs": 40,
            "accelerator": "gpu",
            "devices": 1,
            "precision": "bf16-mixed",
            "gradient_clip_val": 1.0,
            "logger": TensorBoardLogger("tb_logs", name="cifar_resnet18"),
            "callbacks": [
                ModelCheckpoint(monitor="val/acc", mode="max", save_last=True),
                EarlyStopping(monitor="val/loss", patience=10),
                LearningRateMonitor(logging_interval="step"),
            ],
        },
        run=False,
    )
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    model = CifarResNet.load_from_checkpoint(cli.trainer.checkpoint_callback.best_model_path)
    model.eval()
    model.to_onnx("cifar_resnet18.onnx", dynamic_axes={"input": {0: "batch"}}, input_names=["input"])


if __name__ == "__main__":
    cli_main()
