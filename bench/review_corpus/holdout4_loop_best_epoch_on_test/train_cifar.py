"""CIFAR-10 VGG-style baseline, plain PyTorch (converted from the course notebook)."""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import CIFAR10


def make_vgg(num_classes: int = 10) -> nn.Sequential:
    layers, channels = [], 3
    for width in (64, 64, "M", 128, 128, "M", 256, 256, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            channels = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 4 * 4, num_classes))


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(1) == y).sum().item()
            total += y.numel()
    return correct / total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()

    torch.manual_seed(0)
    device = torch.device("cuda")
    normalize = transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    train_set = CIFAR10("data", train=True, download=True, transform=transforms.Compose([
        transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize,
    ]))
    held_out = CIFAR10("data", train=False, download=True, transform=transforms.Compose([transforms.ToTensor(), normalize]))
    train_loader = DataLoader(train_set, batch_size=128, shuffle=True, num_workers=4)
    eval_loader = DataLoader(held_out, batch_size=512, num_workers=4)

    model = make_vgg().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[30, 45], gamma=0.1)
    best_acc = 0.0
    for epoch in range(args.epochs):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        scheduler.step()
        acc = evaluate(model, eval_loader, device)
        print(f"epoch {epoch}: loss {loss.item():.4f} acc {acc:.4f}")
        if acc > best_acc:
            best_acc = acc
            torch.save(model.state_dict(), "best_vgg.pt")
    print(f"best test accuracy {best_acc:.4f}")


if __name__ == "__main__":
    main()
