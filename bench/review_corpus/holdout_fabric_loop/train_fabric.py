"""Lightning Fabric training of a ResNet-50 on ImageNet-100 with bf16, clipping and TensorBoard."""

import torch
import torch.nn.functional as F
from lightning.fabric import Fabric
from lightning.fabric.loggers import TensorBoardLogger
from pydantic import BaseModel, Field
from torch.utils.data import DataLoader
from torchvision import models
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2


class Args(BaseModel):
    root: str = "/data/imagenet100"
    epochs: int = Field(90, ge=1)
    lr: float = Field(0.2, gt=0, le=1.0)
    batch_size: int = Field(256, ge=1)
    patience: int = Field(10, ge=1)


def loaders(args: Args):
    norm = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
    train = ImageFolder(f"{args.root}/train", v2.Compose([v2.RandomResizedCrop(224), v2.RandomHorizontalFlip(), *norm]))
    val = ImageFolder(f"{args.root}/val", v2.Compose([v2.Resize(256), v2.CenterCrop(224), *norm]))
    return (DataLoader(train, batch_size=args.batch_size, shuffle=True, num_workers=16, drop_last=True),
            DataLoader(val, batch_size=args.batch_size, num_workers=16))


def main(args: Args) -> None:
    fabric = Fabric(accelerator="cuda", devices=4, strategy="ddp", precision="bf16-mixed",
                    loggers=TensorBoardLogger("tb", name="in100_r50"))
    fabric.launch()
    fabric.seed_everything(1234)
    model = models.resnet50(weights=None, num_classes=100)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4, nesterov=True)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    model, optimizer = fabric.setup(model, optimizer)
    train_dl, val_dl = fabric.setup_dataloaders(*loaders(args))

    best, stale = 0.0, 0
    for epoch in range(args.epochs):
        model.train()
        for step, (x, y) in enumerate(train_dl):
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            optimizer.zero_grad()
            fabric.backward(loss)
            fabric.clip_gradients(model, optimizer, max_norm=2.0)
            optimizer.step()
            if step % 100 == 0:
                fabric.log_dict({"train/loss": loss.item(), "train/lr": scheduler.get_last_lr()[0]})
        scheduler.step()

        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in val_dl:
                correct += (model(x).argmax(1) == y).sum()
                total += y.numel()
        acc = (fabric.all_reduce(correct, reduce_op="sum") / fabric.all_reduce(torch.tensor(total, device=fabric.device), reduce_op="sum")).item()
        fabric.log("val/acc", acc, step=epoch)
        if acc > best:
            best, stale = acc, 0
            fabric.save("best.ckpt", {"model": model, "optimizer": optimizer, "epoch": epoch})
        else:
            stale += 1
            if stale >= args.patience:
                break

    if fabric.is_global_zero:
        fabric.load("best.ckpt", {"model": model})
        model.eval()
        torch.onnx.export(model.module if hasattr(model, "module") else model, (torch.randn(1, 3, 224, 224, device=fabric.device),),
                          "r50_in100.onnx", dynamic_axes={"input": {0: "batch"}}, input_names=["input"])


if __name__ == "__main__":
    main(Args())
