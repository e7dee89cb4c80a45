import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

from det.data import DetectionData
from det.model import DetConfig, FasterRCNNModule

if __name__ == "__main__":
    cfg = DetConfig()
    L.seed_everything(0, workers=True)
    model = FasterRCNNModule(cfg)
    trainer = L.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu",
        devices=1,
        precision="16-mixed",
        gradient_clip_val=10.0,
        logger=WandbLogger(project="pennfudan-frcnn"),
        callbacks=[
            ModelCheckpoint(monitor="val/map", mode="max"),
            EarlyStopping(monitor="val/map", mode="max", patience=6),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(model, datamodule=DetectionData())
    model.eval()
    torch.onnx.export(model.model, ([torch.rand(3, 640, 640)],), "frcnn.onnx", opset_version=17,
                      input_names=["images"], output_names=["boxes", "labels", "scores"])
