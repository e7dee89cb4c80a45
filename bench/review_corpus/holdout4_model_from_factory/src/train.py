import argparse

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

from src.data.cifar import CIFAR100DataModule
from src.lit_module import LitClassifier


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="wide_resnet28")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=200)
    return p.parse_args()


if __name__ == "__main__":
    args = parse_args()
    L.seed_everything(0, workers=True)
    dm = CIFAR100DataModule(batch_size=128)
    model = LitClassifier(arch=args.arch, lr=args.lr)
    trainer = L.Trainer(
        max_epochs=args.epochs,
        accelerator="gpu",
        devices=1,
        precision="16-mixed",
        gradient_clip_val=5.0,
        logger=WandbLogger(project="cifar100"),
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/acc", mode="max", patience=30),
                   LearningRateMonitor()],
    )
    trainer.fit(model, datamodule=dm)
