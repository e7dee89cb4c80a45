import lightning.pytorch as pl
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import MLFlowLogger

from data import SpeechCommandsData
from lit_audio import KWSNet


def main() -> None:
    pl.seed_everything(17, workers=True)
    data = SpeechCommandsData(root="data/speech_commands", batch_size=256)
    model = KWSNet(n_classes=35)
    trainer = pl.Trainer(
        max_epochs=40,
        accelerator="gpu",
        devices=1,
        precision="16-mixed",
        gradient_clip_val=5.0,
        logger=MLFlowLogger(experiment_name="kws"),
        callbacks=[
            ModelCheckpoint(monitor="val/f1", mode="max"),
            EarlyStopping(monitor="val/acc", mode="max", patience=8),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, ckpt_path="best")


if __name__ == "__main__":
    main()
