"""Stanford Cars classifier, written for PyTorch Lightning 1.5 (still in use on the old cluster image)."""

import pytorch_lightning as pl
import timm
import torch
import torch.nn as nn
from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import TensorBoardLogger
from torch.utils.data import DataLoader
from torchmetrics import Accuracy
from torchvision import transforms as T
from torchvision.datasets import StanfordCars


class CarsModel(pl.LightningModule):
    def __init__(self, lr: float = 1e-3, num_classes: int = 196):
        super().__init__()
        self.save_hyperparameters()
        self.model = timm.create_model("efficientnet_b3", pretrained=False, num_classes=num_classes)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
        self.train_acc = Accuracy(task="multiclass", num_classes=num_classes)
        self.val_acc = Accuracy(task="multiclass", num_classes=num_classes)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.criterion(logits, y)
        self.train_acc(logits, y)
        self.log("train_loss", loss)
        self.log("train_acc", self.train_acc, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val_loss", self.criterion(logits, y))
        self.log("val_acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.01)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=10)
        return {"optimizer": opt, "lr_scheduler": sched}


class CarsData(pl.LightningDataModule):
    def __init__(self, root="data", batch_size=32):
        super().__init__()
        self.root, self.batch_size = root, batch_size
        mean, std = (0.47, 0.46, 0.45), (0.29, 0.29, 0.30)
        self.train_tf = T.Compose([T.RandomResizedCrop(300, scale=(0.5, 1.0)), T.RandomHorizontalFlip(),
                                   T.ColorJitter(0.3, 0.3, 0.3), T.ToTensor(), T.Normalize(mean, std)])
        self.val_tf = T.Compose([T.Resize((300, 300)), T.ToTensor(), T.Normalize(mean, std)])

    def setup(self, stage=None):
        self.train_ds = StanfordCars(self.root, split="train", transform=self.train_tf)
        self.val_ds = StanfordCars(self.root, split="test", transform=self.val_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=64, num_workers=8)


if __name__ == "__main__":
    pl.seed_everything(99)
    trainer = pl.Trainer(
        gpus=2,
        accelerator="ddp",
        max_epochs=60,
        precision=16,
        amp_backend="apex",
        amp_level="O2",
        gradient_clip_val=1.0,
        logger=TensorBoardLogger("tb_logs", name="cars"),
        callbacks=[ModelCheckpoint(monitor="val_acc", mode="max"), EarlyStopping(monitor="val_loss", patience=8),
                   LearningRateMonitor()],
    )
    trainer.fit(CarsModel(), datamodule=CarsData())
