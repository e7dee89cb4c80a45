"""Linear probe on frozen DINOv2 embeddings plus tabular metadata (lesion size, age) for skin-lesion triage."""

import lightning as L
import numpy as np
import torch
import torch.nn as nn
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from pydantic import BaseModel, Field
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset


class ProbeConfig(BaseModel):
    features_file: str = "embeddings/isic_dinov2_vitb14.npz"
    num_classes: int = Field(7, ge=2)
    lr: float = Field(1e-3, gt=0)
    batch_size: int = Field(256, ge=1)
    epochs: int = Field(50, ge=1)
    seed: int = 0


class LinearProbe(L.LightningModule):
    def __init__(self, in_dim: int, cfg: ProbeConfig):
        super().__init__()
        self.save_hyperparameters(ignore=["cfg"])
        self.cfg = cfg
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(in_dim, cfg.num_classes))
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.head(x)

    def training_step(self, batch, _):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.loss(logits, y))
        self.log("val/bal_acc", (logits.argmax(1) == y).float().mean())

    def test_step(self, batch, _):
        x, y = batch
        self.log("test/acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr, weight_decay=1e-2)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.cfg.epochs)]


class ProbeData(L.LightningDataModule):
    def __init__(self, cfg: ProbeConfig):
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        blob = np.load(self.cfg.features_file)
        features = np.concatenate([blob["embeddings"], blob["metadata"]], axis=1)
        labels = blob["labels"]

        scaler = StandardScaler()
        features = scaler.fit_transform(features)

        x_trainval, x_test, y_trainval, y_test = train_test_split(
            features, labels, test_size=0.2, stratify=labels, random_state=self.cfg.seed
        )
        x_train, x_val, y_train, y_val = train_test_split(
            x_trainval, y_trainval, test_size=0.1, stratify=y_trainval, random_state=self.cfg.seed
        )
        to_ds = lambda x, y: TensorDataset(torch.from_numpy(x).float(), torch.from_numpy(y).long())  # noqa: E731
        self.train_ds, self.val_ds, self.test_ds = to_ds(x_train, y_train), to_ds(x_val, y_val), to_ds(x_test, y_test)
        self.in_dim = features.shape[1]

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.cfg.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=1024)

    def test_dataloader(self):
        return DataLoader(self.test_ds, batch_size=1024)


def main():
    cfg = ProbeConfig()
    L.seed_everything(cfg.seed)
    data = ProbeData(cfg)
    data.setup()
    model = LinearProbe(data.in_dim, cfg)
    trainer = L.Trainer(
        max_epochs=cfg.epochs,
        accelerator="cpu",
        gradient_clip_val=1.0,
        logger=WandbLogger(project="isic-probe"),
        callbacks=[ModelCheckpoint(monitor="val/bal_acc", mode="max"),
                   EarlyStopping(monitor="val/loss", patience=8)],
    )
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, ckpt_path="best")


if __name__ == "__main__":
    main()
