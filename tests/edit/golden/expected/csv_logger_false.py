# ruff: noqa  (golden input for the edit tests)
# fmt: off
"""Multi-label tagging with pytorch_lightning 1.x/2.x style imports and a timm-like backbone."""
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning.loggers import CSVLogger

BATCH_SIZE = 16  # fits a 12 GB card


class Tagger(pl.LightningModule):
    def __init__(self, num_tags: int = 12, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.ReLU())
        self.head = nn.Linear(64, num_tags)
        self.loss_fn = nn.BCEWithLogitsLoss()

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss_fn(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", self.loss_fn(self(x), y))
        self.log("val_f1", 0.5)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


if __name__ == "__main__":
    data = TensorDataset(torch.randn(64, 3, 8, 8), torch.randint(0, 2, (64, 12)).float())
    trainer = pl.Trainer(max_epochs=20, logger=CSVLogger(save_dir="lightning_logs", name="tagger"))  # quick run
    trainer.fit(Tagger(), DataLoader(data, batch_size=BATCH_SIZE), DataLoader(data, batch_size=BATCH_SIZE))
