"""UTKFace: an age regressor and a gender classifier share the data code but are trained separately."""

import lightning as L
import torch
import torch.nn as nn
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.regression import MeanAbsoluteError
from torchvision.models import resnet50


def convert_multilabel_to_single_label(attributes: torch.Tensor) -> torch.Tensor:
    """The raw annotation is a one-hot attribute vector; the classifier wants a class index."""
    return attributes.argmax(dim=1)


class AgeRegressor(L.LightningModule):
    def __init__(self, lr: float = 1e-4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.backbone = resnet50(weights=None, num_classes=1)
        self.criterion = nn.MSELoss()
        self.val_mae = MeanAbsoluteError()
        self.test_mae = MeanAbsoluteError()

    def forward(self, x):
        return self.backbone(x).squeeze(1)

    def training_step(self, batch, batch_idx):
        x, age, _ = batch
        loss = self.criterion(self(x), age.float())
        self.log("train/mse", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, age, _ = batch
        self.val_mae(self(x), age.float())
        self.log("val/mae", self.val_mae)

    def test_step(self, batch, batch_idx):
        x, age, _ = batch
        self.test_mae(self(x), age.float())
        self.log("test/mae", self.test_mae)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)}


class GenderClassifier(L.LightningModule):
    def __init__(self, num_classes: int = 2, lr: float = 1e-4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.backbone = resnet50(weights=None, num_classes=num_classes)
        self.criterion = nn.CrossEntropyLoss()
        self.val_acc = MulticlassAccuracy(num_classes=num_classes)
        self.test_acc = MulticlassAccuracy(num_classes=num_classes)

    def forward(self, x):
        return self.backbone(x)

    def training_step(self, batch, batch_idx):
        x, _, attrs = batch
        y = convert_multilabel_to_single_label(attrs)
        loss = self.criterion(self(x), y)
        self.log("train/ce", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, _, attrs = batch
        self.val_acc(self(x), convert_multilabel_to_single_label(attrs))
        self.log("val/acc", self.val_acc)

    def test_step(self, batch, batch_idx):
        x, _, attrs = batch
        self.test_acc(self(x), convert_multilabel_to_single_label(attrs))
        self.log("test/acc", self.test_acc)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=50)}
