from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import MLFlowLogger

from seg.config import DataConfig, TrainConfig
from seg.data import VOCDataModule
from seg.model import DeepLabModule


def main() -> None:
    cfg = TrainConfig()
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = VOCDataModule(DataConfig(root=Path("/data/VOCdevkit/VOC2012")))
    model = DeepLabModule(cfg)
    trainer = pl.Trainer(
        accelerator="gpu",
        devices=2,
        strategy="ddp",
        max_epochs=cfg.max_epochs,
        precision=cfg.precision,
        gradient_clip_val=5.0,
        gradient_clip_algorithm="norm",
        sync_batchnorm=True,
        logger=MLFlowLogger(experiment_name="voc-deeplab", tracking_uri="file:./mlruns"),
        callbacks=[
            ModelCheckpoint(monitor="val_miou", mode="max", filename="{epoch}-{val_miou:.3f}"),
            EarlyStopping(monitor="val_miou", mode="max", patience=15),
            LearningRateMonitor(logging_interval="step"),
        ],
    )
    trainer.fit(model, datamodule=datamodule)


if __name__ == "__main__":
    main()
