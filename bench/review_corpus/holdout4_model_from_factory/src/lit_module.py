"""Generic classification module: the network comes from the project's model zoo (src/models/factory.py)."""

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy

from src.models.factory import build_model


class LitClassifier(L.LightningModule):
    def __init__(self, arch: str = "wide_resnet28", num_classes: int = 100, lr: float = 0.1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = build_model(arch, num_classes=num_classes)
        self.val_acc = MulticlassAccuracy(num_classes=num_classes)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.nll_loss(self(x), y)
        self.log("train/nll", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        out = self(x)
        self.val_acc(out, y)
        self.log("val/nll", F.nll_loss(out, y))
        self.log("val/acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[60, 120, 160], gamma=0.2)
        return [opt], [sched]
