"""Churn prediction on tabular CSV exports with a small MLP; a LightningCLI subclass wires everything."""

import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import WandbLogger
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader, TensorDataset
from torchmetrics.classification import BinaryAUROC

FEATURES = ["tenure", "monthly_charges", "total_charges", "n_tickets", "n_logins_30d"]


class ChurnData(LightningDataModule):
    def __init__(self, train_csv: str = "data/train.csv", val_csv: str = "data/val.csv", batch_size: int = 512):
        super().__init__()
        self.train_csv = train_csv
        self.val_csv = val_csv
        self.batch_size = batch_size

    def setup(self, stage=None):
        train_df = pd.read_csv(self.train_csv)
        val_df = pd.read_csv(self.val_csv)
        scaler = StandardScaler().fit(train_df[FEATURES])
        self.train_set = self._tensors(train_df, scaler)
        self.val_set = self._tensors(val_df, scaler)

    @staticmethod
    def _tensors(df: pd.DataFrame, scaler: StandardScaler) -> TensorDataset:
        x = torch.tensor(scaler.transform(df[FEATURES]), dtype=torch.float32)
        y = torch.tensor(df["churned"].values, dtype=torch.float32)
        return TensorDataset(x, y)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=2048, num_workers=4)


class ChurnMLP(LightningModule):
    def __init__(self, hidden: int = 128, dropout: float = 0.2, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Linear(len(FEATURES), hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1),
        )
        self.val_auc = BinaryAUROC()

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.binary_cross_entropy_with_logits(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_auc(logits, y.int())
        self.log("val_loss", F.binary_cross_entropy_with_logits(logits, y), prog_bar=True)
        self.log("val_auc", self.val_auc)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


class ChurnCLI(LightningCLI):
    def before_fit(self) -> None:
        self.trainer.logger.log_hyperparams({"features": FEATURES})


if __name__ == "__main__":
    ChurnCLI(
        ChurnMLP,
        ChurnData,
        seed_everything_default=False,
        trainer_defaults={
            "max_epochs": 30,
            "accelerator": "gpu",
            "devices": 1,
            "track_grad_norm": 2,
            "logger": WandbLogger(project="churn"),
            "callbacks": [
                ModelCheckpoint(monitor="val_auc", mode="max"),
                EarlyStopping(monitor="val_loss", patience=5),
            ],
        },
    )
