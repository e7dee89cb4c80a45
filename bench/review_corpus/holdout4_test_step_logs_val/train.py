import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import WandbLogger
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import ImageFolder

from model import PneumoniaClassifier

train_tf = transforms.Compose([
    transforms.Grayscale(3),
    transforms.RandomResizedCrop(224, scale=(0.8, 1.0)),
    transforms.RandomRotation(10),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
eval_tf = transforms.Compose([
    transforms.Grayscale(3),
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


if __name__ == "__main__":
    L.seed_everything(42)
    train_ds = ImageFolder("chest_xray/train", transform=train_tf)
    val_ds = ImageFolder("chest_xray/val", transform=eval_tf)
    test_ds = ImageFolder("chest_xray/test", transform=eval_tf)
    model = PneumoniaClassifier(lr=1e-4)
    trainer = L.Trainer(
        max_epochs=30,
        accelerator="gpu",
        precision="16-mixed",
        gradient_clip_val=1.0,
        logger=WandbLogger(project="cxr"),
        callbacks=[
            ModelCheckpoint(monitor="val_auc", mode="max"),
            EarlyStopping(monitor="val_loss", patience=5),
            LearningRateMonitor(),
        ],
    )
    trainer.fit(
        model,
        DataLoader(train_ds, batch_size=32, shuffle=True, num_workers=8),
        DataLoader(val_ds, batch_size=64, num_workers=8),
    )
    trainer.test(model, DataLoader(test_ds, batch_size=64, num_workers=8), ckpt_path="best")
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), "cxr.onnx")
