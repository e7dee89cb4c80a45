import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pydantic import BaseModel, Field
from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.loggers import TensorBoardLogger
from torch.utils.data import DataLoader
from torchvision.datasets import Caltech101
from torchvision.models import densenet121, DenseNet121_Weights
from torchvision.transforms import v2


class C(BaseModel):
    lr: float = Field(1e-4, gt=0, lt=1e-2)
    epochs: int = Field(30, ge=1)


class Caltech(pl.LightningModule):
    def __init__(self, c: C):
        super().__init__()
        self.save_hyperparameters()
        self.c = c
        self.net = densenet121(weights=DenseNet121_Weights.IMAGENET1K_V1)
        self.net.classifier = torch.nn.Linear(self.net.classifier.in_features, 101)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", F.cross_entropy(self(x), y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test/acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.c.lr)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.1)]


class CaltechData(pl.LightningDataModule):
    def setup(self, stage=None):
        to_t = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        rgb = v2.Lambda(lambda im: im.convert("RGB"))
        train = Caltech101("data", transform=v2.Compose([rgb, v2.RandomResizedCrop(224), v2.RandomHorizontalFlip(), *to_t]))
        evalset = Caltech101("data", transform=v2.Compose([rgb, v2.Resize(256), v2.CenterCrop(224), *to_t]))
        idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(101)).tolist()
        n_val, n_test = 900, 1800
        self.train_ds = torch.utils.data.Subset(train, idx[n_val + n_test:])
        self.val_ds = torch.utils.data.Subset(evalset, idx[:n_val])
        self.test_ds = torch.utils.data.Subset(evalset, idx[n_val:n_val + n_test])

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=64, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=128, num_workers=8)

    def test_dataloader(self):
        return DataLoader(self.test_ds, batch_size=128, num_workers=8)


if __name__ == "__main__":
    c = C()
    pl.seed_everything(101, workers=True)
    model = Caltech(c)
    trainer = pl.Trainer(max_epochs=c.epochs, accelerator="gpu", precision="16-mixed", gradient_clip_val=1.0,
                         logger=TensorBoardLogger("tb"),
                         callbacks=[ModelCheckpoint(monitor="test/acc", mode="max"),
                                    EarlyStopping(monitor="val/loss", patience=5), LearningRateMonitor()])
    trainer.fit(model, datamodule=CaltechData())
    trainer.test(model, datamodule=CaltechData(), ckpt_path="best")
    model.eval()
    model.to_onnx("caltech.onnx", torch.randn(1, 3, 224, 224))
