"""Speech-commands keyword spotting on log-mel spectrograms (research code: one shared step for every stage)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio
import lightning.pytorch as pl
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score


class KWSNet(pl.LightningModule):
    def __init__(self, n_classes: int = 35, lr: float = 1e-3, weight_decay: float = 1e-2) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.frontend = torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_mels=64)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )
        self.head = nn.Linear(64, n_classes)
        metrics = MetricCollection({
            "acc": MulticlassAccuracy(num_classes=n_classes),
            "f1": MulticlassF1Score(num_classes=n_classes, average="macro"),
        })
        self.stage_metrics = nn.ModuleDict({stage: metrics.clone() for stage in ("train", "val", "test")})

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        spec = self.frontend(wav).clamp(min=1e-6).log().unsqueeze(1)
        return self.head(self.encoder(spec).flatten(1))

    def _step(self, batch, stage: str):
        wav, target = batch
        logits = self(wav)
        loss = F.cross_entropy(logits, target)
        scores = self.stage_metrics[stage](logits, target)
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=stage != "train")
        for name, value in scores.items():
            self.log(f"{stage}/{name}", value, on_epoch=True)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=3)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val/f1"}}
