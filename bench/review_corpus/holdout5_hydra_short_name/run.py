import hydra
import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import FashionMNIST


class FashionData(L.LightningDataModule):
    def __init__(self, batch_size: int) -> None:
        super().__init__()
        self.batch_size = batch_size

    def setup(self, stage=None):
        tf = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.ToTensor()])
        self.train_set = FashionMNIST("data", train=True, transform=tf)
        full_val = FashionMNIST("data", train=True, transform=T.ToTensor())
        self.val_set = torch.utils.data.Subset(full_val, range(55000, 60000))
        self.train_set = torch.utils.data.Subset(self.train_set, range(55000))

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=512)


class FashionCNN(L.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(), torch.nn.Linear(64, 10),
        )

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
        self.log("val/loss", F.cross_entropy(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)}


def fit(c) -> None:
    L.seed_everything(c.seed)
    trainer = L.Trainer(
        **c.trainer,
        logger=TensorBoardLogger("tb"),
        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss"), LearningRateMonitor()],
    )
    model = FashionCNN(lr=c.lr)
    trainer.fit(model, datamodule=FashionData(c.batch_size))
    model.eval()
    model.to_onnx("fashion.onnx", torch.zeros(1, 1, 28, 28))


@hydra.main(version_base=None, config_path="configs", config_name="main")
def entry(c) -> None:
    fit(c)


if __name__ == "__main__":
    entry()
