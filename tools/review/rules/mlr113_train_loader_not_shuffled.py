"""MLR113: train loader not shuffled."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.index import MISSING
from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule
from tools.review.rules.data_splits import DL, stage_of


class TrainLoaderNotShuffled(Rule):
    """The training DataLoader does not shuffle.

    Without shuffling every epoch sees the batches in the same order (often sorted by class when read from
    folders), which biases SGD and hurts generalisation. Pass ``shuffle=True`` or a sampler.
    """

    code = "MLR113"
    name = "train-loader-not-shuffled"
    checklist = "data-module"
    severity = "warning"
    message = "Training DataLoader without shuffle=True"
    suggestion = "Pass shuffle=True (or a sampler such as WeightedRandomSampler) to the training DataLoader."
    fixable = True
    VALID = [
        DL
        + "class D:\n    def train_dataloader(self):\n        return DataLoader(self.train_ds, batch_size=64, shuffle=True)\n"
    ]
    INVALID = [
        DL
        + "class D:\n    def train_dataloader(self):\n        return DataLoader(self.train_ds, batch_size=64)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls_named("DataLoader"):
            if stage_of(call) != "train" or call.has_star_kwargs:
                continue
            if any(call.kw(k) is not None for k in ("sampler", "batch_sampler")):
                continue
            shuffle = call.kw_value("shuffle")
            if shuffle is True or (call.kw("shuffle") is not None and shuffle is MISSING):
                continue
            first = call.positional(0)
            dataset = call.file.code(first) if first is not None else ""
            if re.search(r"iter|stream|webdataset|wds", dataset, re.I):
                continue
            fix = Fix(
                call.file.path, [Edit(call.node, add_kwargs=[("shuffle", "True")], remove_kwargs=["shuffle"])]
            )
            yield self.at(
                call.file, call.node, f"{call.code(60)} does not shuffle the training data", fix=fix
            )
