"""Quick fine-tune from ImageNet weights (run on a single workstation GPU)."""

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

from lit import CarsConfig, CarsData, CarsNet

if __name__ == "__main__":
    cfg = CarsConfig(lr=3e-4, pretrained=True, batch_size=32)
    model = CarsNet(cfg)
    trainer = L.Trainer(
        max_epochs=20,
        accelerator="gpu",
        devices=1,
        logger=WandbLogger(project="cars", name="finetune"),
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/acc", mode="max", patience=5),
                   LearningRateMonitor()],
    )
    trainer.fit(model, datamodule=CarsData(batch_size=cfg.batch_size))
