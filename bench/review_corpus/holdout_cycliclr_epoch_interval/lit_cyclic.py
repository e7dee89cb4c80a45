import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision import models
from torchvision.datasets import GTSRB
from torchvision.transforms import v2


class Cfg(BaseModel):
    base_lr: float = Field(1e-4, gt=0)
    max_lr: float = Field(3e-3, gt=0, lt=1e-2)
    step_size_up: int = Field(2000, ge=1)
    epochs: int = Field(25, ge=1)


class SignNet(L.LightningModule):
    def __init__(self, cfg: Cfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.net = models.resnet18(weights=None, num_classes=43)

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
        opt = torch.optim.SGD(self.parameters(), lr=self.cfg.base_lr, momentum=0.9)
        sched = torch.optim.lr_scheduler.CyclicLR(opt, base_lr=self.cfg.base_lr, max_lr=self.cfg.max_lr,
                                                  step_size_up=self.cfg.step_size_up, mode="triangular2")
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}


class SignsData(L.LightningDataModule):
    def setup(self, stage=None):
        to_t = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
        train_tf = v2.Compose([v2.Resize((48, 48)), v2.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
                               v2.ColorJitter(0.4, 0.4, 0.3), *to_t])
        test_tf = v2.Compose([v2.Resize((48, 48)), *to_t])
        full = GTSRB("data", split="train", transform=train_tf)
        full_eval = GTSRB("data", split="train", transform=test_tf)
        idx = torch.randperm(len(full), generator=torch.Generator().manual_seed(1)).tolist()
        self.train_ds = torch.utils.data.Subset(full, idx[4000:])
        self.val_ds = torch.utils.data.Subset(full_eval, idx[:4000])

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=128, shuffle=True, num_workers=6)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=512, num_workers=6)


if __name__ == "__main__":
    cfg = Cfg()
    L.seed_everything(43, workers=True)
    trainer = L.Trainer(max_epochs=cfg.epochs, precision="bf16-mixed", gradient_clip_val=1.0, logger=CSVLogger("logs"),
                        callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss"),
                                   LearningRateMonitor()])
    model = SignNet(cfg)
    trainer.fit(model, datamodule=SignsData())
    model.eval()
    model.to_onnx("signs.onnx", torch.randn(1, 3, 48, 48))
