"""Fine-tune a ResNet-18 on an ImageFolder data set (flowers, 5 classes) with Lightning 2.x."""

from pathlib import Path

import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, random_split
from torchmetrics.classification import MulticlassAccuracy
from torchvision import models, transforms
from torchvision.datasets import ImageFolder

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ModelConfig(BaseModel):
    num_classes: int = Field(ge=2)
    lr: float = Field(gt=0, le=1e-2, default=3e-4)
    weight_decay: float = Field(ge=0, default=1e-4)
    max_epochs: int = Field(ge=1, default=30)


class DataConfig(BaseModel):
    data_dir: Path
    batch_size: int = Field(ge=1, default=64)
    num_workers: int = Field(ge=0, default=4)
    val_fraction: float = Field(gt=0, lt=1, default=0.15)
    image_size: int = Field(ge=32, default=224)


class FlowerClassifier(L.LightningModule):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.config = config
        self.net = models.resnet18(weights=models.ResNet18_Weights.IMAGENET1K_V1)
        self.net.fc = nn.Linear(self.net.fc.in_features, config.num_classes)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
        self.train_acc = MulticlassAccuracy(num_classes=config.num_classes)
        self.val_acc = MulticlassAccuracy(num_classes=config.num_classes)
        self.test_acc = MulticlassAccuracy(num_classes=config.num_classes)
        self.example_input_array = torch.zeros(1, 3, 224, 224)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        logits = self(images)
        loss = self.criterion(logits, targets)
        self.train_acc(logits, targets)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train/acc", self.train_acc, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        logits = self(images)
        self.val_acc(logits, targets)
        self.log("val/loss", self.criterion(logits, targets), on_epoch=True, prog_bar=True)
        self.log("val/acc", self.val_acc, on_epoch=True, prog_bar=True)

    def test_step(self, batch, batch_idx):
        images, targets = batch
        logits = self(images)
        self.test_acc(logits, targets)
        self.log("test/acc", self.test_acc, on_epoch=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(
            self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay
        )
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.config.max_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


class FlowerDataModule(L.LightningDataModule):
    def __init__(self, config: DataConfig) -> None:
        super().__init__()
        self.config = config
        self.train_tf = transforms.Compose(
            [
                transforms.RandomResizedCrop(config.image_size, scale=(0.6, 1.0)),
                transforms.RandomHorizontalFlip(),
                transforms.ColorJitter(0.2, 0.2, 0.2),
                transforms.ToTensor(),
                transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
            ]
        )
        self.eval_tf = transforms.Compose(
            [
                transforms.Resize(int(config.image_size * 1.14)),
                transforms.CenterCrop(config.image_size),
                transforms.ToTensor(),
                transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
            ]
        )

    def setup(self, stage: str | None = None) -> None:
        full = ImageFolder(self.config.data_dir / "train")
        n_val = int(len(full) * self.config.val_fraction)
        train_idx, val_idx = random_split(
            range(len(full)), [len(full) - n_val, n_val], generator=torch.Generator().manual_seed(42)
        )
        self.train_set = torch.utils.data.Subset(
            ImageFolder(self.config.data_dir / "train", transform=self.train_tf), list(train_idx)
        )
        self.val_set = torch.utils.data.Subset(
            ImageFolder(self.config.data_dir / "train", transform=self.eval_tf), list(val_idx)
        )
        self.test_set = ImageFolder(self.config.data_dir / "test", transform=self.eval_tf)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_set,
            batch_size=self.config.batch_size,
            shuffle=True,
            num_workers=self.config.num_workers,
            pin_memory=True,
            persistent_workers=self.config.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.config.batch_size, num_workers=self.config.num_workers)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.test_set, batch_size=self.config.batch_size, num_workers=self.config.num_workers)


def main() -> None:
    L.seed_everything(42, workers=True)
    model_cfg = ModelConfig(num_classes=5)
    data_cfg = DataConfig(data_dir=Path("data/flowers"))
    model = FlowerClassifier(model_cfg)
    datamodule = FlowerDataModule(data_cfg)
    trainer = L.Trainer(
        max_epochs=model_cfg.max_epochs,
        accelerator="gpu",
        devices=1,
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=[
            WandbLogger(project="flowers", log_model=False),
            TensorBoardLogger(save_dir="runs/", name="flower_classifier"),
        ],
        callbacks=[
            ModelCheckpoint(monitor="val/acc", mode="max", save_top_k=2, save_last=True),
            EarlyStopping(monitor="val/loss", mode="min", patience=8),
            LearningRateMonitor(logging_interval="epoch"),
        ],
    )
    trainer.fit(model, datamodule=datamodule)
    trainer.test(model, datamodule=datamodule, ckpt_path="best")

    best = FlowerClassifier.load_from_checkpoint(trainer.checkpoint_callback.best_model_path)
    best.eval()
    best.to_onnx(
        "flowers.onnx",
        torch.zeros(1, 3, 224, 224),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
    )


if __name__ == "__main__":
    main()
