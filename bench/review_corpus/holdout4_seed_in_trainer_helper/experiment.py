"""Flowers-102 fine-tuning experiment; imported by the sweep notebook, which calls run_experiment(lr=...)."""

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy
from torchvision import transforms as T
from torchvision.datasets import Flowers102
from torchvision.models import efficientnet_b0

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class RunConfig(BaseModel):
    lr: float = Field(3e-4, gt=0, lt=1e-2)
    epochs: int = Field(25, ge=1)
    batch_size: int = Field(64, ge=1)


class FlowersData(L.LightningDataModule):
    def __init__(self, root: str = "data", batch_size: int = 64) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size
        self.train_tf = T.Compose([
            T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ColorJitter(0.2, 0.2, 0.2),
            T.ToTensor(), T.Normalize(MEAN, STD),
        ])
        self.eval_tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])

    def setup(self, stage=None):
        self.train_set = Flowers102(self.root, split="train", transform=self.train_tf)
        self.val_set = Flowers102(self.root, split="val", transform=self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=8)


class FlowersNet(L.LightningModule):
    def __init__(self, lr: float = 3e-4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = efficientnet_b0(weights=None, num_classes=102)
        self.val_acc = MulticlassAccuracy(num_classes=102)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y, label_smoothing=0.1)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val/loss", F.cross_entropy(logits, y))
        self.log("val/acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=0.05)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.trainer.max_epochs)
        return [opt], [sched]


def build_trainer(cfg: RunConfig, log_dir: str) -> L.Trainer:
    """One place for the run's settings, so every sweep point is launched identically."""
    L.seed_everything(2023, workers=True)
    return L.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu",
        devices=1,
        precision="bf16-mixed",
        gradient_clip_val=2.0,
        logger=TensorBoardLogger(log_dir),
        callbacks=[
            ModelCheckpoint(monitor="val/acc", mode="max"),
            EarlyStopping(monitor="val/loss", patience=6),
            LearningRateMonitor(),
        ],
    )


def run_experiment(cfg: RunConfig, log_dir: str = "tb") -> float:
    trainer = build_trainer(cfg, log_dir)
    model = FlowersNet(lr=cfg.lr)
    data = FlowersData(batch_size=cfg.batch_size)
    trainer.fit(model, datamodule=data)
    best = FlowersNet.load_from_checkpoint(trainer.checkpoint_callback.best_model_path)
    best.eval()
    best.to_onnx(f"{log_dir}/flowers.onnx", torch.zeros(1, 3, 224, 224))
    return float(trainer.checkpoint_callback.best_model_score)
