"""Concrete classifier for the internal 'parts-defects' project. Shared training logic lives in common.lit_base."""

import timm
import torch.nn as nn

from common.lit_base import BaseClassifier


class ConvNeXtDefects(BaseClassifier):
    """Only the network differs from the shared base; steps, loss, metrics and optimizers are inherited."""

    def __init__(self, num_classes: int = 6, drop_path_rate: float = 0.1, **base_kwargs):
        super().__init__(num_classes=num_classes, **base_kwargs)
        self.backbone = timm.create_model(
            "convnext_tiny", pretrained=False, num_classes=0, drop_path_rate=drop_path_rate
        )
        self.head = nn.Linear(self.backbone.num_features, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))
