"""Age-group classifier (8 groups) on UTKFace crops - the head predicts one number per image."""

import pytorch_lightning as pl
import torch
import torch.nn as nn
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import TensorBoardLogger
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms
from PIL import Image
import pandas as pd

NUM_GROUPS = 8


class FaceAgeDataset(Dataset):
    def __init__(self, csv_file, transform):
        self.df = pd.read_csv(csv_file)
        self.transform = transform

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        row = self.df.iloc[i]
        img = Image.open(row["path"]).convert("RGB")
        return self.transform(img), int(row["age_group"])


class AgeGroupModel(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = models.mobilenet_v3_small(weights=None)
        self.backbone.classifier[-1] = nn.Linear(self.backbone.classifier[-1].in_features, 1)
        self.loss = nn.MSELoss()

    def forward(self, x):
        return self.backbone(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y.float())
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        pred = self(x)
        acc = (pred.round().clamp(0, NUM_GROUPS - 1) == y).float().mean()
        self.log("val_loss", self.loss(pred, y.float()))
        self.log("val_acc", acc)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)}


class FaceData(pl.LightningDataModule):
    def __init__(self, batch_size=64):
        super().__init__()
        self.batch_size = batch_size
        self.train_tf = transforms.Compose([
            transforms.RandomResizedCrop(128, scale=(0.85, 1.0)),
            transforms.RandomHorizontalFlip(),
            transforms.ColorJitter(0.2, 0.2, 0.1),
            transforms.ToTensor(),
        ])
        self.eval_tf = transforms.Compose([transforms.Resize((128, 128)), transforms.ToTensor()])

    def setup(self, stage=None):
        self.train = FaceAgeDataset("splits/train.csv", self.train_tf)
        self.val = FaceAgeDataset("splits/val.csv", self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train, batch_size=self.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val, batch_size=self.batch_size, num_workers=4)


if __name__ == "__main__":
    pl.seed_everything(0)
    trainer = pl.Trainer(
        max_epochs=30,
        accelerator="gpu",
        devices=1,
        precision="16-mixed",
        gradient_clip_val=0.5,
        logger=TensorBoardLogger("runs", name="age_groups"),
        callbacks=[ModelCheckpoint(monitor="val_acc", mode="max"), EarlyStopping(monitor="val_loss", patience=5)],
    )
    trainer.fit(AgeGroupModel(), datamodule=FaceData())
