"""Chest X-ray pneumonia classifier (DenseNet-121 trained from scratch)."""

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import BinaryAccuracy, BinaryAUROC
from torchvision.models import densenet121


class PneumoniaClassifier(L.LightningModule):
    def __init__(self, lr: float = 1e-4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = densenet121(weights=None, num_classes=1)
        self.train_acc = BinaryAccuracy()
        self.val_acc = BinaryAccuracy()
        self.val_auc = BinaryAUROC()
        self.test_acc = BinaryAccuracy()
        self.test_auc = BinaryAUROC()

    def forward(self, x):
        return self.model(x).squeeze(1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.binary_cross_entropy_with_logits(logits, y.float())
        self.train_acc(logits, y)
        self.log_dict({"train_loss": loss, "train_acc": self.train_acc}, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.binary_cross_entropy_with_logits(logits, y.float())
        self.val_acc(logits, y)
        self.val_auc(logits, y)
        metrics = {"val_loss": loss, "val_acc": self.val_acc, "val_auc": self.val_auc}
        self.log_dict(metrics, prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.binary_cross_entropy_with_logits(logits, y.float())
        self.test_acc(logits, y)
        self.test_auc(logits, y)
        metrics = {"val_loss": loss, "val_acc": self.test_acc, "val_auc": self.test_auc}
        self.log_dict(metrics)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
        return [optimizer], [scheduler]
