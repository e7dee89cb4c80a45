"""Hydra entry point (variable names follow the lab's style guide: `opts` for the composed config)."""

import hydra
import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig, OmegaConf

from src.lit import LitTextCNN, SST2Data


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(opts: DictConfig) -> None:
    if opts.get("seed") is not None:
        L.seed_everything(opts.seed, workers=True)
    data = SST2Data(batch_size=opts.batch_size)
    model = LitTextCNN(lr=opts.lr, dropout=opts.dropout)
    trainer = L.Trainer(
        **opts.trainer,
        logger=WandbLogger(project="sst2", config=OmegaConf.to_container(opts, resolve=True)),
        callbacks=[
            ModelCheckpoint(monitor="val/acc", mode="max"),
            EarlyStopping(monitor="val/loss", patience=3),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(model, datamodule=data)
    model.eval()
    model.to_onnx("textcnn.onnx", model.example_input_array)


if __name__ == "__main__":
    main()
