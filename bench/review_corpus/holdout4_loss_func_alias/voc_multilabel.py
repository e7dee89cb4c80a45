"""Pascal VOC multi-label classification (20 labels per image), notebook exported to a script."""

import lightning as L
import torch
import torch.nn as nn
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader
from torchmetrics.classification import MultilabelAveragePrecision
from torchvision import transforms as T
from torchvision.datasets import VOCDetection
from torchvision.models import resnet34

VOC_CLASSES = [
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
]


def encode_targets(annotation) -> torch.Tensor:
    target = torch.zeros(len(VOC_CLASSES))
    for obj in annotation["annotation"]["object"]:
        target[VOC_CLASSES.index(obj["name"])] = 1.0
    return target


class VOCData(L.LightningDataModule):
    def __init__(self, root: str = "data/voc", batch_size: int = 32) -> None:
        super().__init__()
        self.root = root
        self.batch_size = batch_size

    def setup(self, stage=None):
        train_tf = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                              T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
        val_tf = T.Compose([T.Resize((224, 224)), T.ToTensor(),
                            T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
        self.train_set = VOCDetection(self.root, image_set="train", transform=train_tf,
                                      target_transform=encode_targets)
        self.val_set = VOCDetection(self.root, image_set="val", transform=val_tf, target_transform=encode_targets)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=6)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, num_workers=6)


class VOCClassifier(L.LightningModule):
    def __init__(self, num_labels: int = 20, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.backbone = resnet34(weights=None)
        self.backbone.fc = nn.Linear(self.backbone.fc.in_features, num_labels)
        self.loss_func = F.binary_cross_entropy_with_logits
        self.val_map = MultilabelAveragePrecision(num_labels=num_labels)

    def forward(self, x):
        return torch.sigmoid(self.backbone(x))

    def training_step(self, batch, batch_idx):
        images, targets = batch
        probs = self(images)
        loss = self.loss_func(probs, targets)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        probs = self(images)
        self.val_map(probs, targets.int())
        self.log("val_loss", self.loss_func(probs, targets))
        self.log("val_map", self.val_map)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        return [opt], [torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[30, 45])]


if __name__ == "__main__":
    L.seed_everything(3)
    trainer = L.Trainer(
        max_epochs=60, accelerator="cpu", gradient_clip_val=1.0, logger=CSVLogger("logs"),
        callbacks=[ModelCheckpoint(monitor="val_map", mode="max"), EarlyStopping(monitor="val_loss", patience=10)],
    )
    model = VOCClassifier()
    trainer.fit(model, datamodule=VOCData())
