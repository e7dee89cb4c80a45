"""Helpers shared by the data splits rules: DataModule splits and loaders."""

from __future__ import annotations

import re

from tools.review.index import Call

DL = "from torch.utils.data import DataLoader, random_split\n"


EVAL = re.compile(r"val|valid|test|eval|predict", re.I)


TRAIN = re.compile(r"train", re.I)


def stage_of(call: Call) -> str | None:
    """'train' / 'eval' for a loader by the method that builds it or the name it is bound to."""
    if call.func is not None:
        name = call.func.name
        if name == "train_dataloader":
            return "train"
        if name in {"val_dataloader", "test_dataloader", "predict_dataloader"}:
            return "eval"
    if call.target:
        last = call.target.rsplit(".", 1)[-1]
        if TRAIN.search(last):
            return "train"
        if EVAL.search(last):
            return "eval"
    return None
