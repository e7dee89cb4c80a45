"""Multi-label land-cover tagging (Planet Amazon, 17 tags) on CPU nodes, written with aliased imports."""

import pandas as pd
import pytorch_lightning.loggers as pl_loggers
import torch
from PIL import Image
from pydantic import BaseModel, Field, field_validator
from pytorch_lightning import LightningDataModule as DataModuleBase
from pytorch_lightning import LightningModule as LM
from pytorch_lightning import Trainer as T
from pytorch_lightning import seed_everything as fix_seed
from pytorch_lightning.callbacks import EarlyStopping as ES
from pytorch_lightning.callbacks import LearningRateMonitor as LRM
from pytorch_lightning.callbacks import ModelCheckpoint as Ckpt
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchmetrics.classification import MultilabelF1Score
from torchvision import models
from torchvision import transforms as tf

TAGS = 17


class Opts(BaseModel):
    csv: str = "planet/train_v2.csv"
    lr: float = Field(1e-3, gt=0)
    epochs: int = Field(12, ge=1)
    batch: int = Field(64, ge=1)
    threshold: float = 0.2

    @field_validator("threshold")
    @classmethod
    def _in_unit_interval(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError("threshold must be in (0, 1)")
        return v


class ChipDataset(Dataset):
    def __init__(self, frame: pd.DataFrame, transform):
        self.frame = frame.reset_index(drop=True)
        self.transform = transform

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, i):
        row = self.frame.iloc[i]
        img = Image.open(f"planet/train-jpg/{row.image_name}.jpg").convert("RGB")
        return self.transform(img), torch.tensor(row.iloc[2:].to_numpy(dtype="float32"))


class PlanetData(DataModuleBase):
    def __init__(self, opts: Opts):
        super().__init__()
        self.opts = opts

    def setup(self, stage=None):
        frame = pd.read_csv(self.opts.csv)
        val = frame.sample(frac=0.1, random_state=13)
        train = frame.drop(val.index)
        aug = tf.Compose([tf.RandomHorizontalFlip(), tf.RandomVerticalFlip(), tf.RandomRotation(90), tf.ToTensor()])
        plain = tf.ToTensor()
        self.train_ds, self.val_ds = ChipDataset(train, aug), ChipDataset(val, plain)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=self.opts.batch, shuffle=True, num_workers=16)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=256, num_workers=16)


class Tagger(LM):
    def __init__(self, opts: Opts):
        super().__init__()
        self.save_hyperparameters()
        self.opts = opts
        self.net = models.resnet18(weights=None, num_classes=TAGS)
        self.loss = nn.BCEWithLogitsLoss()
        self.val_f1 = MultilabelF1Score(num_labels=TAGS, threshold=opts.threshold, average="micro")

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", self.loss(logits, y))
        self.val_f1(logits, y.int())
        self.log("val_f1", self.val_f1, prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.opts.lr)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=2)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_f1"}}


if __name__ == "__main__":
    opts = Opts()
    fix_seed(5, workers=True)
    trainer = T(
        max_epochs=opts.epochs,
        accelerator="cpu",
        devices=1,
        precision="bf16-mixed",
        gradient_clip_val=2.0,
        logger=pl_loggers.CSVLogger("logs", name="planet"),
        callbacks=[Ckpt(monitor="val_f1", mode="max"), ES(monitor="val_f1", mode="max", patience=4), LRM()],
    )
    model = Tagger(opts)
    trainer.fit(model, datamodule=PlanetData(opts))
    model.eval()
    torch.onnx.export(model, (torch.randn(1, 3, 256, 256),), "planet_tagger.onnx", dynamic_axes={"input": {0: "b"}},
                      input_names=["input"])
