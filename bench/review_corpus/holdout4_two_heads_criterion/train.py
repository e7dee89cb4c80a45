import sys

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger

from data import UTKFaceData
from faces import AgeRegressor, GenderClassifier

TASKS = {
    "age": (AgeRegressor, "val/mae", "min"),
    "gender": (GenderClassifier, "val/acc", "max"),
}


def main(task: str) -> None:
    model_cls, monitor, mode = TASKS[task]
    L.seed_everything(0, workers=True)
    data = UTKFaceData()
    model = model_cls()
    trainer = L.Trainer(
        max_epochs=50,
        accelerator="gpu",
        precision="bf16-mixed",
        gradient_clip_val=1.0,
        logger=TensorBoardLogger("tb", name=task),
        callbacks=[
            ModelCheckpoint(monitor=monitor, mode=mode),
            EarlyStopping(monitor=monitor, mode=mode, patience=7),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, ckpt_path="best")
    model.eval()
    model.to_onnx(f"{task}.onnx", torch.zeros(1, 3, 200, 200))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gender")
