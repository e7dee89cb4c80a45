import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

from lit import CarsConfig, CarsData, CarsNet

if __name__ == "__main__":
    L.seed_everything(11, workers=True)
    cfg = CarsConfig(lr=1e-3)
    model = CarsNet(cfg)
    trainer = L.Trainer(
        max_epochs=120,
        accelerator="gpu",
        devices=4,
        strategy="ddp",
        precision="bf16-mixed",
        gradient_clip_val=1.0,
        logger=WandbLogger(project="cars"),
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/acc", mode="max", patience=15),
                   LearningRateMonitor()],
    )
    trainer.fit(model, datamodule=CarsData(batch_size=cfg.batch_size))
    model.eval()
    model.to_onnx("cars.onnx", torch.zeros(1, 3, 224, 224))
