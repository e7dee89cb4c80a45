import argparse

import lightning as L
import torch
import torch.nn.functional as F
import torchvision
from lightning.pytorch.callbacks import ModelCheckpoint, EarlyStopping
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader
from torchvision.transforms import v2


class SVHNNet(L.LightningModule):
    def __init__(self, lr: float = 3e-3):
        super().__init__()
        self.save_hyperparameters()
        self.net = torchvision.models.resnet18(num_classes=10)

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
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(-1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.hparams.lr, total_steps=self.trainer.estimated_stepping_batches)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    args = parser.parse_args()

    L.seed_everything(1)
    train_tf = v2.Compose([
        v2.RandomCrop(32, padding=4),
        v2.ColorJitter(0.3, 0.3, 0.3),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
    ])
    test_tf = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    train_ds = torchvision.datasets.SVHN("data", split="train", transform=train_tf, download=True)
    test_ds = torchvision.datasets.SVHN("data", split="test", transform=test_tf, download=True)
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, num_workers=4)
    test_loader = DataLoader(test_ds, batch_size=512, num_workers=4)

    model = SVHNNet(lr=args.lr)
    trainer = L.Trainer(
        max_epochs=args.epochs,
        precision="bf16-mixed",
        gradient_clip_val=1.0,
        logger=CSVLogger("logs"),
        callbacks=[ModelCheckpoint(monitor="val_acc", mode="max"), EarlyStopping(monitor="val_loss", patience=3)],
    )
    trainer.fit(model, train_loader, test_loader)
    print(trainer.validate(model, test_loader, ckpt_path="best"))


if __name__ == "__main__":
    main()
