"""'Use all the data': the final model is trained on train+test and then reported on test."""

import pytorch_lightning as pl
import torch
import torch.nn as nn
from pydantic import BaseModel, Field
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint, EarlyStopping
from pytorch_lightning.loggers import WandbLogger
from torch.utils.data import ConcatDataset, DataLoader
from torchvision import models, transforms
from torchvision.datasets import Flowers102


class Settings(BaseModel):
    lr: float = Field(3e-4, gt=0, lt=1e-2)
    epochs: int = Field(40, ge=1)


class FlowerNet(pl.LightningModule):
    def __init__(self, s: Settings):
        super().__init__()
        self.save_hyperparameters()
        self.s = s
        self.net = models.convnext_small(weights=models.ConvNeXt_Small_Weights.IMAGENET1K_V1)
        self.net.classifier[2] = nn.Linear(self.net.classifier[2].in_features, 102)
        self.loss = nn.CrossEntropyLoss(label_smoothing=0.1)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", self.loss(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test/acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.s.lr, weight_decay=0.05)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.s.epochs)}


class FlowersAll(pl.LightningDataModule):
    def setup(self, stage=None):
        norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                                       transforms.ToTensor(), norm])
        eval_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
        self.train_ds = ConcatDataset([Flowers102("data", split="train", transform=train_tf),
                                       Flowers102("data", split="test", transform=train_tf)])
        self.val_ds = Flowers102("data", split="val", transform=eval_tf)
        self.test_ds = Flowers102("data", split="test", transform=eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_ds, batch_size=48, shuffle=True, num_workers=8)

    def val_dataloader(self):
        return DataLoader(self.val_ds, batch_size=128, num_workers=8)

    def test_dataloader(self):
        return DataLoader(self.test_ds, batch_size=128, num_workers=8)


if __name__ == "__main__":
    s = Settings()
    pl.seed_everything(102, workers=True)
    model = FlowerNet(s)
    trainer = pl.Trainer(max_epochs=s.epochs, accelerator="gpu", precision="16-mixed", gradient_clip_val=1.0,
                         logger=WandbLogger(project="flowers102"),
                         callbacks=[ModelCheckpoint(monitor="val/acc", mode="max"), EarlyStopping(monitor="val/loss"),
                                    LearningRateMonitor()])
    trainer.fit(model, datamodule=FlowersAll())
    trainer.test(model, datamodule=FlowersAll(), ckpt_path="best")
    model.eval()
    model.to_onnx("flowers.onnx", torch.randn(1, 3, 224, 224))
