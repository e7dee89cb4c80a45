import json

import lightning as L
import segmentation_models_pytorch as smp
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader

from dataset import PolypDataset


class PolypData(L.LightningDataModule):
    def __init__(self, root: str = "data/kvasir", batch_size: int = 8) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size

    def setup(self, stage=None):
        with open(f"{self.root}/splits.json") as fh:
            split = json.load(fh)
        self.train_set = PolypDataset(self.root, split["train"], train=True)
        self.val_set = PolypDataset(self.root, split["val"], train=False)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=4)


class PolypSeg(L.LightningModule):
    def __init__(self, lr: float = 1e-4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = smp.UnetPlusPlus("efficientnet-b3", encoder_weights=None, classes=1)
        self.loss_fn = smp.losses.DiceLoss("binary")
        self.bce = torch.nn.BCEWithLogitsLoss()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.loss_fn(logits, y) + self.bce(logits, y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.loss_fn(logits, y) + self.bce(logits, y)
        tp, fp, fn, tn = smp.metrics.get_stats(logits.sigmoid(), y.long(), mode="binary", threshold=0.5)
        self.log("val/loss", loss)
        self.log("val/dice", smp.metrics.f1_score(tp, fp, fn, tn, reduction="micro"))

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/dice"}}


if __name__ == "__main__":
    L.seed_everything(2021)
    trainer = L.Trainer(
        max_epochs=100,
        accelerator="gpu",
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=TensorBoardLogger("runs"),
        callbacks=[ModelCheckpoint(monitor="val/dice", mode="max"), EarlyStopping(monitor="val/dice", mode="max", patience=15),
                   LearningRateMonitor()],
    )
    model = PolypSeg()
    trainer.fit(model, datamodule=PolypData())
    model.eval()
    model.to_onnx("polyp.onnx", torch.zeros(1, 3, 352, 352))
