"""Building-footprint segmentation on aerial tiles, driven by a LightningCLI subclass.

Run: python main.py fit --config configs/footprints.yaml   (the YAML is kept on the cluster, not in git)
"""

from pathlib import Path

import albumentations as A
import cv2
import lightning.pytorch as pl
import numpy as np
import segmentation_models_pytorch as smp
import torch
from albumentations.pytorch import ToTensorV2
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader, Dataset
from torchmetrics.classification import BinaryJaccardIndex


class TileDataset(Dataset):
    def __init__(self, root: str, split: str, transform: A.Compose) -> None:
        self.images = sorted((Path(root) / split / "images").glob("*.png"))
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, idx: int):
        path = self.images[idx]
        image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        mask = cv2.imread(str(path).replace("/images/", "/masks/"), cv2.IMREAD_GRAYSCALE)
        out = self.transform(image=image, mask=(mask > 127).astype(np.float32))
        return out["image"], out["mask"].unsqueeze(0)


class FootprintData(pl.LightningDataModule):
    def __init__(self, root: str = "data/tiles", batch_size: int = 16, num_workers: int = 8, image_size: int = 512):
        super().__init__()
        self.save_hyperparameters()

    def setup(self, stage: str | None = None) -> None:
        size = self.hparams.image_size
        train_tf = A.Compose([
            A.RandomResizedCrop(size=(size, size), scale=(0.5, 1.0)),
            A.HorizontalFlip(),
            A.VerticalFlip(),
            A.RandomRotate90(),
            A.Normalize(),
            ToTensorV2(),
        ])
        eval_tf = A.Compose([A.Resize(size, size), A.Normalize(), ToTensorV2()])
        self.train_set = TileDataset(self.hparams.root, "train", train_tf)
        self.val_set = TileDataset(self.hparams.root, "val", eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)


class FootprintModel(pl.LightningModule):
    def __init__(self, encoder: str = "resnet34", lr: float = 3e-4, image_size: int = 512) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = smp.Unet(encoder_name=encoder, encoder_weights=None, classes=1)
        self.dice = smp.losses.DiceLoss(mode="binary", from_logits=True)
        self.train_iou = BinaryJaccardIndex()
        self.val_iou = BinaryJaccardIndex()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = self.dice(logits, y)
        self.train_iou(logits.sigmoid(), y.int())
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/iou", self.train_iou, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_iou(logits.sigmoid(), y.int())
        self.log("val/loss", self.dice(logits, y), on_epoch=True)
        self.log("val/iou", self.val_iou, on_epoch=True, prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=1e-4)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.trainer.max_epochs)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


class FootprintCLI(LightningCLI):
    """Keeps image_size in one place: the data section sets it, the model follows."""

    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("data.image_size", "model.image_size")


def main() -> None:
    cli = FootprintCLI(
        FootprintModel,
        FootprintData,
        seed_everything_default=1234,
        save_config_kwargs={"overwrite": True},
        trainer_defaults={
            "max_epochs": 60,
            "accelerator": "gpu",
            "devices": 1,
            "precision": "16-mixed",
            "gradient_clip_val": 1.0,
            "logger": CSVLogger("logs", name="footprints"),
            "callbacks": [
                ModelCheckpoint(monitor="val/iou", mode="max", save_top_k=2),
                EarlyStopping(monitor="val/iou", mode="max", patience=12),
                LearningRateMonitor(logging_interval="epoch"),
            ],
        },
        run=False,
    )
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    best = FootprintModel.load_from_checkpoint(cli.trainer.checkpoint_callback.best_model_path)
    best.eval()
    best.to_onnx("footprints.onnx", input_sample=torch.zeros(1, 3, 512, 512))


if __name__ == "__main__":
    main()
