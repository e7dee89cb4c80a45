"""EuroSAT land-cover classification; settings come from configs/experiment.yaml via OmegaConf."""

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from omegaconf import OmegaConf
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy
from torchvision import transforms as T
from torchvision.datasets import ImageFolder
from torchvision.models import resnet18

params = OmegaConf.load("configs/experiment.yaml")


class EuroSATData(L.LightningDataModule):
    def __init__(self, root: str, batch_size: int) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size

    def setup(self, stage=None):
        norm = T.Normalize((0.344, 0.380, 0.408), (0.203, 0.137, 0.116))
        train_tf = T.Compose([T.RandomHorizontalFlip(), T.RandomVerticalFlip(), T.RandomRotation(90), T.ToTensor(), norm])
        self.train_set = ImageFolder(f"{self.root}/train", transform=train_tf)
        self.val_set = ImageFolder(f"{self.root}/val", transform=T.Compose([T.ToTensor(), norm]))

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=8)


class EuroSATNet(L.LightningModule):
    def __init__(self, lr: float, weight_decay: float) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = resnet18(weights=None, num_classes=10)
        self.val_acc = MulticlassAccuracy(num_classes=10)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val/loss", F.cross_entropy(logits, y))
        self.log("val/acc", self.val_acc)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)]


if __name__ == "__main__":
    L.seed_everything(params.seed, workers=True)
    data = EuroSATData(**params.data)
    model = EuroSATNet(**params.optim)
    trainer = L.Trainer(
        **params.trainer,
        logger=TensorBoardLogger("tb_logs"),
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss"),
                   LearningRateMonitor()],
    )
    trainer.fit(model, datamodule=data)
    model.eval()
    model.to_onnx("eurosat.onnx", torch.zeros(1, 3, 64, 64))
