"""Plain PyTorch: MobileNetV3 on a 12-class waste-sorting data set, bf16 autocast, TensorBoard, plateau LR."""

import random

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from torchvision import datasets, models, transforms

CONFIG = {"epochs": 40, "lr": 1e-3, "batch_size": 96, "patience": 6, "root": "data/garbage12"}


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def main() -> None:
    set_seed(7)
    device = "cuda"
    norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_tf = transforms.Compose([transforms.RandomResizedCrop(224, scale=(0.6, 1)), transforms.RandomHorizontalFlip(),
                                   transforms.RandomRotation(15), transforms.ToTensor(), norm])
    eval_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])
    train_ds = datasets.ImageFolder(f"{CONFIG['root']}/train", train_tf)
    val_ds = datasets.ImageFolder(f"{CONFIG['root']}/val", eval_tf)
    train_dl = DataLoader(train_ds, batch_size=CONFIG["batch_size"], shuffle=True, num_workers=8)
    val_dl = DataLoader(val_ds, batch_size=256, num_workers=8)

    model = models.mobilenet_v3_large(weights=models.MobileNet_V3_Large_Weights.IMAGENET1K_V2)
    model.classifier[3] = nn.Linear(model.classifier[3].in_features, len(train_ds.classes))
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=CONFIG["lr"], weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.3, patience=2)
    writer = SummaryWriter("runs/waste_mnv3")

    best_loss, bad = float("inf"), 0
    for epoch in range(CONFIG["epochs"]):
        model.train()
        for i, (x, y) in enumerate(train_dl):
            x, y = x.to(device), y.to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            writer.add_scalar("train/loss", loss.item(), epoch * len(train_dl) + i)

        model.eval()
        val_loss, correct = 0.0, 0
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            for x, y in val_dl:
                x, y = x.to(device), y.to(device)
                out = model(x)
                val_loss += criterion(out, y).item() * len(y)
                correct += (out.argmax(1) == y).sum().item()
        val_loss /= len(val_ds)
        scheduler.step(val_loss)
        writer.add_scalar("val/loss", val_loss, epoch)
        writer.add_scalar("val/acc", correct / len(val_ds), epoch)
        writer.add_scalar("train/lr", optimizer.param_groups[0]["lr"], epoch)
        if val_loss < best_loss:
            best_loss, bad = val_loss, 0
            torch.save(model.state_dict(), "waste_best.pt")
        else:
            bad += 1
            if bad >= CONFIG["patience"]:
                break
    writer.close()


if __name__ == "__main__":
    main()
