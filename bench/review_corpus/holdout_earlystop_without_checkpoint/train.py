import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, RichProgressBar
from lightning.pytorch.loggers import MLFlowLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision.datasets import EuroSAT
from torchvision.models import regnet_y_800mf
from torchvision.transforms import v2


class EuroSatCfg(BaseModel):
    lr: float = Field(2e-3, gt=0, lt=1e-2)
    epochs: int = Field(50, ge=1)


class LandCover(pl.LightningModule):
    def __init__(self, cfg: EuroSatCfg):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = cfg
        self.net = regnet_y_800mf(weights=None, num_classes=10)

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
        opt = torch.optim.AdamW(self.parameters(), lr=self.cfg.lr)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.cfg.epochs)]


class EuroSatData(pl.LightningDataModule):
    def setup(self, stage=None):
        base = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
        full_train = EuroSAT("data", transform=v2.Compose([v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(),
                                                             v2.RandomRotation(90), *base]))
        full_eval = EuroSAT("data", transform=v2.Compose(base))
        idx = torch.randperm(len(full_train), generator=torch.Generator().manual_seed(5)).tolist()
        cut = int(0.8 * len(idx))
        self.train_ds = torch.utils.data.Subset(full_train, idx[:cut])
        self.val_ds = torch.utils.data.Subset(full_eval, idx[cut:])

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=128, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=256, num_workers=8)


if __name__ == "__main__":
    cfg = EuroSatCfg()
    pl.seed_everything(10, workers=True)
    model = LandCover(cfg)
    trainer = pl.Trainer(max_epochs=cfg.epochs, accelerator="gpu", precision="bf16-mixed", gradient_clip_val=0.0,
                         logger=MLFlowLogger(experiment_name="eurosat"),
                         callbacks=[EarlyStopping(monitor="val/acc", mode="max", patience=7), LearningRateMonitor(),
                                    RichProgressBar()])
    trainer.fit(model, datamodule=EuroSatData())
    model.eval()
    model.to_onnx("eurosat.onnx", torch.randn(1, 3, 64, 64))
