import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

from config import PlantConfig
from model import PlantNet

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class PlantData(L.LightningDataModule):
    def __init__(self, cfg: PlantConfig) -> None:
        super().__init__()
        self.cfg = cfg
        tail = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
        self.train_tf = v2.Compose([v2.RandomResizedCrop(224), v2.RandomHorizontalFlip(), v2.TrivialAugmentWide(), *tail])
        self.eval_tf = v2.Compose([v2.Resize(256), v2.CenterCrop(224), *tail])

    def setup(self, stage=None):
        self.train_set = ImageFolder(f"{self.cfg.data_dir}/train", transform=self.train_tf)
        self.val_set = ImageFolder(f"{self.cfg.data_dir}/val", transform=self.eval_tf)
        self.test_set = ImageFolder(f"{self.cfg.data_dir}/test", transform=self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.cfg.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.cfg.batch_size, num_workers=8)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=self.cfg.batch_size)


def main() -> None:
    cfg = PlantConfig()
    L.seed_everything(cfg.seed, workers=True)
    data = PlantData(cfg)
    model = PlantNet(cfg)
    trainer = L.Trainer(
        max_epochs=cfg.epochs,
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=CSVLogger("logs", name="plants"),
        callbacks=[
            ModelCheckpoint(monitor="val/f1", mode="max"),
            EarlyStopping(monitor="val/f1", mode="max", patience=6),
            LearningRateMonitor(logging_interval="step"),
        ],
    )
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, ckpt_path="best")
    best = PlantNet.load_from_checkpoint(trainer.checkpoint_callback.best_model_path, cfg=cfg)
    best.eval()
    torch.onnx.export(best, (torch.randn(1, 3, 224, 224),), "plants.onnx", dynamo=True)


if __name__ == "__main__":
    main()
