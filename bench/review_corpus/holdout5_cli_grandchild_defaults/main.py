import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import GTSRB
from torchvision.models import mobilenet_v3_small

from cli import LabCLI


class SignsData(LightningDataModule):
    def __init__(self, root: str = "data", batch_size: int = 128) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size

    def setup(self, stage=None):
        train_tf = T.Compose([T.Resize((48, 48)), T.RandomAffine(10, translate=(0.1, 0.1)), T.ColorJitter(0.3, 0.3), T.ToTensor()])
        eval_tf = T.Compose([T.Resize((48, 48)), T.ToTensor()])
        self.train_set = GTSRB(self.root, split="train", transform=train_tf)
        self.val_set = GTSRB(self.root, split="test", transform=eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=512, num_workers=8)


class SignNet(LightningModule):
    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = mobilenet_v3_small(weights=None, num_classes=43)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        return [opt], [torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches)]


class SignsCLI(LabCLI):
    pass


if __name__ == "__main__":
    SignsCLI(
        SignNet,
        SignsData,
        trainer_defaults={
            "accelerator": "gpu",
            "precision": "16-mixed",
            "gradient_clip_val": 0.5,
            "logger": WandbLogger(project="gtsrb"),
            "callbacks": [ModelCheckpoint(monitor="val_acc", mode="max"), EarlyStopping(monitor="val_loss")],
        },
    )
