"""Helpers shared by the loss inputs rules: loss functions fed what they expect."""

from __future__ import annotations

import re

F = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


LABELS = re.compile(r"label|class|cls\b|target.*long|one_hot|\.long\(\)|categor", re.I)


# Multi-label evidence: torchmetrics' Multilabel* metrics, label counts, and multi-hot targets (sklearn's
# MultiLabelBinarizer writes them; CrossEntropyLoss on them is wrong, BCEWithLogitsLoss right).
MULTILABEL = re.compile(
    r"Multilabel|multilabel|multi_label|num_labels|MultiLabel|multi_hot|multihot|[Mm]ulti-hot"
)
