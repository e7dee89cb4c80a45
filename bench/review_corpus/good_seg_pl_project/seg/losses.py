import torch
import torch.nn as nn
import torch.nn.functional as F


class DiceCELoss(nn.Module):
    """Cross-entropy on logits plus soft Dice on the softmax probabilities (ignores label 255)."""

    def __init__(self, num_classes: int, dice_weight: float = 0.5, ignore_index: int = 255) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.dice_weight = dice_weight
        self.ignore_index = ignore_index
        self.ce = nn.CrossEntropyLoss(ignore_index=ignore_index)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        ce = self.ce(logits, target)
        valid = (target != self.ignore_index).unsqueeze(1)
        probs = logits.softmax(dim=1) * valid
        one_hot = F.one_hot(target.clamp(0, self.num_classes - 1), self.num_classes).permute(0, 3, 1, 2)
        one_hot = one_hot * valid
        inter = (probs * one_hot).sum(dim=(0, 2, 3))
        denom = probs.sum(dim=(0, 2, 3)) + one_hot.sum(dim=(0, 2, 3))
        dice = 1 - ((2 * inter + 1.0) / (denom + 1.0)).mean()
        return (1 - self.dice_weight) * ce + self.dice_weight * dice
