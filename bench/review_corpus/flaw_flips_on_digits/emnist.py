"""Handwritten letters+digits (EMNIST balanced, 47 classes) with a small CNN."""

import lightning as L
import torch
import torch.nn as nn
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, random_split
from torchvision import transforms as T
from torchvision.datasets import EMNIST


class Hyper(BaseModel):
    lr: float = Field(2e-3, gt=0)
    batch_size: int = Field(256, ge=1)
    epochs: int = Field(20, ge=1)


class EmnistCNN(L.LightningModule):
    def __init__(self, h: Hyper):
        super().__init__()
        self.save_hyperparameters()
        self.h = h
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 47),
        )
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.net(x)

    def _shared(self, batch, stage: str):
        x, y = batch
        logits = self(x)
        loss = self.loss(logits, y)
        self.log(f"{stage}/loss", loss, prog_bar=stage == "val")
        self.log(f"{stage}/acc", (logits.argmax(1) == y).float().mean(), prog_bar=stage == "val")
        return loss

    def training_step(self, batch, batch_idx):
        return self._shared(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._shared(batch, "val")

    def test_step(self, batch, batch_idx):
        self._shared(batch, "test")

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.h.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3)]


class EmnistData(L.LightningDataModule):
    def __init__(self, h: Hyper):
        super().__init__()
        self.h = h
        self.train_tf = T.Compose([
            T.RandomHorizontalFlip(),
            T.RandomVerticalFlip(),
            T.RandomRotation(30),
            T.ToTensor(),
        ])
        self.eval_tf = T.ToTensor()

    def setup(self, stage=None):
        full = EMNIST("data", split="balanced", train=True, download=True, transform=self.train_tf)
        self.train_ds, self.val_ds = random_split(full, [100_000, len(full) - 100_000],
                                                  generator=torch.Generator().manual_seed(0))
        self.test_ds = EMNIST("data", split="balanced", train=False, download=True, transform=self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.h.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=1024, num_workers=4)

    def test_dataloader(self):
        return DataLoader(self.test_ds, batch_size=1024, num_workers=4)


if __name__ == "__main__":
    h = Hyper()
    L.seed_everything(11, workers=True)
    trainer = L.Trainer(max_epochs=h.epochs, accelerator="gpu", precision="bf16-mixed", gradient_clip_val=1.0,
                        logger=TensorBoardLogger("tb"),
                        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"),
                                   EarlyStopping(monitor="val/loss", patience=4),
                                   LearningRateMonitor()])
    model = EmnistCNN(h)
    trainer.fit(model, datamodule=EmnistData(h))
    trainer.test(model, datamodule=EmnistData(h), ckpt_path="best")
    model.eval()
    model.to_onnx("emnist.onnx", torch.zeros(1, 1, 28, 28))
