import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import MLFlowLogger

from polyp.data import KvasirData
from polyp.module import PolypSegmenter
from polypconf.schema import ExperimentConfig

if __name__ == "__main__":
    cfg = ExperimentConfig.from_yaml("experiments/unetpp_b3.yaml")
    L.seed_everything(cfg.seed, workers=True)
    model = PolypSegmenter(cfg)
    trainer = L.Trainer(
        max_epochs=cfg.epochs,
        accelerator="gpu",
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=MLFlowLogger(experiment_name="kvasir"),
        callbacks=[ModelCheckpoint(monitor="val/iou", mode="max"), EarlyStopping(monitor="val/iou", mode="max"),
                   LearningRateMonitor()],
    )
    trainer.fit(model, datamodule=KvasirData(cfg))
    model.eval()
    model.to_onnx("unetpp_polyp.onnx", input_sample=__import__("torch").randn(1, 3, 352, 352))
