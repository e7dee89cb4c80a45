# ruff: noqa  (golden input for the autofix tests: kept exactly as the review fixer sees and writes it)
# fmt: off
"""A small but typical Lightning training script with fixable problems."""

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn


def softmax_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    gamma: float = 2.0,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss (Lin et al., 2017): cross-entropy scaled by (1 - p_t) ** gamma; gamma=0 is cross-entropy.

    Shapes as for F.cross_entropy: logits (N, C) or (N, C, d1, ...), class-index targets (N) or (N, d1, ...).
    """
    log_p = torch.nn.functional.log_softmax(logits, dim=1)
    ce = torch.nn.functional.nll_loss(log_p, target, weight=weight, ignore_index=ignore_index, reduction="none")
    log_pt = -torch.nn.functional.nll_loss(log_p, target, ignore_index=ignore_index, reduction="none")
    loss = (1.0 - log_pt.exp()).pow(gamma) * ce
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    valid = target != ignore_index
    if weight is None:
        denom = valid.sum().to(loss.dtype)
    else:
        denom = (weight[torch.where(valid, target, torch.zeros_like(target))] * valid).sum().to(loss.dtype)
    return loss.sum() / denom.clamp(min=1e-12)


class FocalLoss(torch.nn.Module):
    """Softmax focal loss as a module, a drop-in for nn.CrossEntropyLoss (see softmax_focal_loss)."""

    def __init__(
        self,
        gamma: float = 2.0,
        weight: torch.Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        self.gamma = gamma
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return softmax_focal_loss(logits, target, self.gamma, self.weight, self.ignore_index, self.reduction)


class LitClassifier(L.LightningModule):
    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__()
        self.net = nn.Linear(32, 4)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = softmax_focal_loss(self(x), y, gamma=2.0)
        self.log("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", softmax_focal_loss(self(x), y, gamma=2.0))

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)}


def main() -> None:
    trainer = L.Trainer(
        max_epochs=10,
        accelerator="gpu",
    )
    trainer.fit(LitClassifier())


if __name__ == "__main__":
    main()
