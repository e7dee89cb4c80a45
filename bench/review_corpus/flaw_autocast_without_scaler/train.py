"""Plain-PyTorch training of a ConvNeXt-Tiny on a food-101 subset, with AMP, clipping and W&B."""

import random
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import wandb
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision import datasets, models
from torchvision.transforms import v2

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class Config(BaseModel):
    data_root: Path = Path("data/food101_subset")
    epochs: int = Field(default=20, ge=1)
    batch_size: int = Field(default=64, ge=1)
    lr: float = Field(default=4e-4, gt=0, lt=1e-2)
    weight_decay: float = Field(default=0.05, ge=0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    patience: int = Field(default=4, ge=1)
    seed: int = 17


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def build_loaders(cfg: Config) -> tuple[DataLoader, DataLoader, int]:
    train_tf = v2.Compose([
        v2.RandomResizedCrop(224, antialias=True),
        v2.RandomHorizontalFlip(),
        v2.RandAugment(num_ops=2, magnitude=9),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(MEAN, STD),
    ])
    val_tf = v2.Compose([
        v2.Resize(256, antialias=True),
        v2.CenterCrop(224),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(MEAN, STD),
    ])
    train_ds = datasets.ImageFolder(cfg.data_root / "train", transform=train_tf)
    val_ds = datasets.ImageFolder(cfg.data_root / "val", transform=val_tf)
    g = torch.Generator().manual_seed(cfg.seed)
    train_dl = DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, num_workers=8,
                          pin_memory=True, drop_last=True, generator=g)
    val_dl = DataLoader(val_ds, batch_size=cfg.batch_size * 2, shuffle=False, num_workers=8)
    return train_dl, val_dl, len(train_ds.classes)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, criterion: nn.Module, device: torch.device) -> tuple[float, float]:
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for images, targets in loader:
        images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        with torch.autocast(device_type="cuda", dtype=torch.float16):
            logits = model(images)
            total_loss += criterion(logits, targets).item() * targets.numel()
        correct += (logits.argmax(1) == targets).sum().item()
        seen += targets.numel()
    return total_loss / seen, correct / seen


def main() -> None:
    cfg = Config()
    seed_all(cfg.seed)
    device = torch.device("cuda")
    train_dl, val_dl, num_classes = build_loaders(cfg)

    model = models.convnext_tiny(weights=models.ConvNeXt_Tiny_Weights.IMAGENET1K_V1)
    model.classifier[2] = nn.Linear(model.classifier[2].in_features, num_classes)
    model.to(device)

    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, epochs=cfg.epochs, steps_per_epoch=len(train_dl), pct_start=0.15
    )
    run = wandb.init(project="food101-convnext", config=cfg.model_dump(mode="json"))

    best_acc, bad_epochs, step = 0.0, 0, 0
    for epoch in range(cfg.epochs):
        model.train()
        for images, targets in train_dl:
            images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type="cuda", dtype=torch.float16):
                loss = criterion(model(images), targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optimizer.step()
            scheduler.step()
            step += 1
            if step % 50 == 0:
                run.log({"train/loss": loss.item(), "train/lr": scheduler.get_last_lr()[0]}, step=step)

        val_loss, val_acc = evaluate(model, val_dl, criterion, device)
        run.log({"val/loss": val_loss, "val/acc": val_acc, "epoch": epoch}, step=step)
        if val_acc > best_acc:
            best_acc, bad_epochs = val_acc, 0
            torch.save({"model": model.state_dict(), "epoch": epoch, "val_acc": val_acc}, "best.pt")
        else:
            bad_epochs += 1
            if bad_epochs >= cfg.patience:
                break

    model.load_state_dict(torch.load("best.pt", map_location=device)["model"])
    model.eval().cpu()
    torch.onnx.export(
        model, (torch.randn(1, 3, 224, 224),), "convnext_food.onnx",
        input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "batch"}},
    )
    run.finish()


if __name__ == "__main__":
    main()
