"""Linear probe on frozen DINOv2 features for the iNat mini split (notebook exported as a script)."""

import lightning as L
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import ImageFolder


def load_backbone(name: str = "dinov2_vits14") -> nn.Module:
    backbone = torch.hub.load("facebookresearch/dinov2", name)
    for p in backbone.parameters():
        p.requires_grad = False
    return backbone


class LinearProbe(L.LightningModule):
    def __init__(self, num_classes: int = 1010, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.backbone = load_backbone()
        self.head = nn.Linear(384, num_classes)
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x):
        with torch.no_grad():
            feats = self.backbone(x)
        return self.head(feats)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.criterion(self(x), y)
        if batch_idx % 100 == 0:
            print(f"step {self.global_step} train loss {loss.item():.4f}")
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        acc = (logits.argmax(1) == y).float().mean()
        print(f"val loss {self.criterion(logits, y).item():.4f} acc {acc.item():.3f}")

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.head.parameters(), lr=self.hparams.lr)
        return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)]


if __name__ == "__main__":
    L.seed_everything(0)
    tf_train = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                          T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    tf_val = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                        T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    train_dl = DataLoader(ImageFolder("inat/train_mini", tf_train), batch_size=256, shuffle=True, num_workers=8)
    val_dl = DataLoader(ImageFolder("inat/val", tf_val), batch_size=256, num_workers=8)
    trainer = L.Trainer(max_epochs=10, accelerator="gpu", precision="16-mixed", gradient_clip_val=1.0)
    trainer.fit(LinearProbe(), train_dl, val_dl)
