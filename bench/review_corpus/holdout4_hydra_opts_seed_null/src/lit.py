import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from datasets import load_from_disk
from torch.utils.data import DataLoader
from torchmetrics.classification import BinaryAccuracy


class SST2Data(L.LightningDataModule):
    """Tokenised SST-2 saved with datasets.save_to_disk; GLUE's own train/validation splits."""

    def __init__(self, path: str = "data/sst2_tok", batch_size: int = 64) -> None:
        super().__init__()
        self.path = path
        self.batch_size = batch_size

    def setup(self, stage=None):
        ds = load_from_disk(self.path).with_format("torch")
        self.train_set, self.val_set = ds["train"], ds["validation"]

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)


class LitTextCNN(L.LightningModule):
    def __init__(self, vocab_size: int = 30522, dim: int = 128, lr: float = 1e-3, dropout: float = 0.5) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv1d(dim, 100, k) for k in (3, 4, 5)])
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(300, 1)
        self.val_acc = BinaryAccuracy()
        self.example_input_array = torch.zeros(1, 64, dtype=torch.long)

    def forward(self, input_ids):
        h = self.embed(input_ids).transpose(1, 2)
        h = torch.cat([F.relu(c(h)).amax(dim=2) for c in self.convs], dim=1)
        return self.fc(self.drop(h)).squeeze(1)

    def training_step(self, batch, batch_idx):
        logits = self(batch["input_ids"])
        loss = F.binary_cross_entropy_with_logits(logits, batch["label"].float())
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self(batch["input_ids"])
        self.val_acc(logits, batch["label"])
        self.log("val/loss", F.binary_cross_entropy_with_logits(logits, batch["label"].float()))
        self.log("val/acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)}
