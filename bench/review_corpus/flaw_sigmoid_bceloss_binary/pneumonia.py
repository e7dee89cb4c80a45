"""Chest X-ray pneumonia detector (binary) on the Kermany data set, DenseNet-121."""

import torch
import torch.nn as nn
from lightning.pytorch import LightningDataModule, LightningModule, Trainer, seed_everything
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import MLFlowLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader, WeightedRandomSampler
from torchmetrics.classification import BinaryAUROC, BinaryF1Score
from torchvision import models, transforms
from torchvision.datasets import ImageFolder


class Settings(BaseModel):
    data_dir: str = "chest_xray"
    lr: float = Field(1e-4, gt=0, lt=1e-2)
    batch_size: int = Field(32, ge=1)
    epochs: int = Field(15, ge=1)


class PneumoniaNet(LightningModule):
    def __init__(self, s: Settings):
        super().__init__()
        self.save_hyperparameters()
        self.s = s
        self.model = models.densenet121(weights=models.DenseNet121_Weights.DEFAULT)
        self.model.classifier = nn.Sequential(nn.Linear(self.model.classifier.in_features, 1), nn.Sigmoid())
        self.loss_fn = nn.BCELoss()
        self.val_auc = BinaryAUROC()
        self.val_f1 = BinaryF1Score()

    def forward(self, x):
        return self.model(x).squeeze(1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        prob = self(x)
        loss = self.loss_fn(prob, y.float())
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        prob = self(x)
        self.log("val/loss", self.loss_fn(prob, y.float()), prog_bar=True)
        self.val_auc(prob, y)
        self.val_f1(prob, y)
        self.log("val/auroc", self.val_auc, prog_bar=True)
        self.log("val/f1", self.val_f1)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.s.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.1)
        return [opt], [sched]


class XrayData(LightningDataModule):
    def __init__(self, s: Settings):
        super().__init__()
        self.s = s
        norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        self.train_tf = transforms.Compose([
            transforms.Grayscale(num_output_channels=3),
            transforms.RandomResizedCrop(224, scale=(0.8, 1.0)),
            transforms.RandomRotation(10),
            transforms.ColorJitter(brightness=0.2, contrast=0.2),
            transforms.ToTensor(),
            norm,
        ])
        self.eval_tf = transforms.Compose([
            transforms.Grayscale(num_output_channels=3),
            transforms.Resize((224, 224)),
            transforms.ToTensor(),
            norm,
        ])

    def setup(self, stage=None):
        self.train_ds = ImageFolder(f"{self.s.data_dir}/train", self.train_tf)
        self.val_ds = ImageFolder(f"{self.s.data_dir}/val", self.eval_tf)
        self.test_ds = ImageFolder(f"{self.s.data_dir}/test", self.eval_tf)

    def train_dataloader(self):
        targets = torch.tensor(self.train_ds.targets)
        weights = (1.0 / torch.bincount(targets).float())[targets]
        sampler = WeightedRandomSampler(weights, num_samples=len(weights), replacement=True)
        return DataLoader(self.train_ds, batch_size=self.s.batch_size, sampler=sampler, num_workers=6)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=64, num_workers=6)

    def test_dataloader(self):
        return DataLoader(self.test_ds, batch_size=64, num_workers=6)


if __name__ == "__main__":
    s = Settings()
    seed_everything(3, workers=True)
    model, data = PneumoniaNet(s), XrayData(s)
    trainer = Trainer(
        max_epochs=s.epochs,
        accelerator="gpu",
        precision="bf16-mixed",
        gradient_clip_val=1.0,
        logger=MLFlowLogger(experiment_name="pneumonia"),
        callbacks=[
            ModelCheckpoint(monitor="val/auroc", mode="max"),
            EarlyStopping(monitor="val/auroc", mode="max", patience=4),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(model, datamodule=data)
    best = PneumoniaNet.load_from_checkpoint(trainer.checkpoint_callback.best_model_path).eval()
    best.to_onnx("pneumonia.onnx", torch.randn(1, 3, 224, 224), dynamic_axes={"input": {0: "batch"}})
