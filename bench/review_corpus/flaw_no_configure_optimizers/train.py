"""Oxford-IIIT Pets breed classifier: fine-tunes an ImageNet EfficientNet-B0 (37 classes)."""

import pytorch_lightning as pl
import torch
import torch.nn as nn
from pydantic import BaseModel, Field
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import WandbLogger
from torch.utils.data import DataLoader
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score
from torchvision import models
from torchvision import transforms as T
from torchvision.datasets import OxfordIIITPet

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class HParams(BaseModel):
    num_classes: int = Field(default=37, ge=2)
    lr: float = Field(default=5e-4, gt=0)
    weight_decay: float = Field(default=0.05, ge=0)
    epochs: int = Field(default=25, ge=1)
    batch_size: int = Field(default=48, ge=1)
    workers: int = Field(default=8, ge=0)
    seed: int = 7


class PetsModel(pl.LightningModule):
    def __init__(self, hp: HParams):
        super().__init__()
        self.save_hyperparameters()
        self.hp = hp
        self.backbone = models.efficientnet_b0(weights=models.EfficientNet_B0_Weights.IMAGENET1K_V1)
        in_features = self.backbone.classifier[1].in_features
        self.backbone.classifier[1] = nn.Linear(in_features, hp.num_classes)
        self.criterion = nn.CrossEntropyLoss()
        self.train_acc = MulticlassAccuracy(num_classes=hp.num_classes)
        self.val_acc = MulticlassAccuracy(num_classes=hp.num_classes)
        self.val_f1 = MulticlassF1Score(num_classes=hp.num_classes, average="macro")
        self.test_acc = MulticlassAccuracy(num_classes=hp.num_classes)
        self.optimizer = torch.optim.AdamW(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)

    def forward(self, x):
        return self.backbone(x)

    def training_step(self, batch, batch_idx):
        images, labels = batch
        logits = self(images)
        loss = self.criterion(logits, labels)
        self.train_acc(logits, labels)
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/acc", self.train_acc, on_epoch=True, on_step=False)
        return loss

    def validation_step(self, batch, batch_idx):
        images, labels = batch
        logits = self(images)
        loss = self.criterion(logits, labels)
        self.val_acc(logits, labels)
        self.val_f1(logits, labels)
        self.log("val/loss", loss, prog_bar=True)
        self.log("val/acc", self.val_acc, prog_bar=True)
        self.log("val/f1", self.val_f1)

    def test_step(self, batch, batch_idx):
        images, labels = batch
        self.test_acc(self(images), labels)
        self.log("test/acc", self.test_acc)



class PetsData(pl.LightningDataModule):
    def __init__(self, hp: HParams, root: str = "data/pets"):
        super().__init__()
        self.hp = hp
        self.root = root
        self.train_tf = T.Compose([
            T.RandomResizedCrop(224),
            T.RandomHorizontalFlip(),
            T.TrivialAugmentWide(),
            T.ToTensor(),
            T.Normalize(MEAN, STD),
        ])
        self.eval_tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])

    def prepare_data(self):
        OxfordIIITPet(self.root, split="trainval", download=True)
        OxfordIIITPet(self.root, split="test", download=True)

    def setup(self, stage=None):
        full_train = OxfordIIITPet(self.root, split="trainval", transform=self.train_tf)
        full_eval = OxfordIIITPet(self.root, split="trainval", transform=self.eval_tf)
        perm = torch.randperm(len(full_train), generator=torch.Generator().manual_seed(self.hp.seed)).tolist()
        n_val = len(perm) // 10
        self.train_set = torch.utils.data.Subset(full_train, perm[n_val:])
        self.val_set = torch.utils.data.Subset(full_eval, perm[:n_val])
        self.test_set = OxfordIIITPet(self.root, split="test", transform=self.eval_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hp.batch_size, shuffle=True,
                          num_workers=self.hp.workers, pin_memory=True, persistent_workers=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hp.batch_size, shuffle=False, num_workers=self.hp.workers)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=self.hp.batch_size, shuffle=False, num_workers=self.hp.workers)


def export_onnx(model: PetsModel, path: str = "pets_effnet_b0.onnx") -> None:
    model = model.cpu()
    model.eval()
    torch.onnx.export(
        model, (torch.randn(1, 3, 224, 224),), path,
        input_names=["images"], output_names=["logits"],
        dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
    )


if __name__ == "__main__":
    hp = HParams()
    pl.seed_everything(hp.seed, workers=True)
    model = PetsModel(hp)
    data = PetsData(hp)
    trainer = pl.Trainer(
        max_epochs=hp.epochs,
        accelerator="cuda",
        devices=1,
        precision="16-mixed",
        gradient_clip_val=2.0,
        logger=WandbLogger(project="pets", name="effnet_b0"),
        callbacks=[
            ModelCheckpoint(monitor="val/f1", mode="max", save_top_k=1),
            EarlyStopping(monitor="val/loss", patience=6),
        ],
    )
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, ckpt_path="best")
    export_onnx(PetsModel.load_from_checkpoint(trainer.checkpoint_callback.best_model_path))
