import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger

from common.data import DefectsDataModule
from convnext_cls import ConvNeXtDefects


def main() -> None:
    L.seed_everything(1337, workers=True)
    model = ConvNeXtDefects(num_classes=6, lr=3e-4)
    datamodule = DefectsDataModule(root="/mnt/defects", image_size=384)
    trainer = L.Trainer(
        max_epochs=50,
        accelerator="gpu",
        devices=2,
        precision="bf16-mixed",
        gradient_clip_val=1.0,
        logger=WandbLogger(project="parts-defects"),
        callbacks=[
            ModelCheckpoint(monitor="val/f1_macro", mode="max"),
            EarlyStopping(monitor="val/f1_macro", mode="max", patience=10),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(model, datamodule=datamodule)


if __name__ == "__main__":
    main()
