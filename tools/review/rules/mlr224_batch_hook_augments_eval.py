"""MLR224: GPU-side augmentation in batch hooks is limited to training."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.common import is_random_transform

_HOOKS = ("on_after_batch_transfer", "on_before_batch_transfer")
_LM = "import lightning as L\nimport kornia.augmentation as K\nclass M(L.LightningModule):\n"


class BatchHookAugmentsEval(Rule):
    """Augmentation in ``on_after_batch_transfer`` runs for validation and test batches too.

    Lightning calls the batch-transfer hooks for every stage; GPU augmentation placed there (the Kornia
    pattern) randomly crops/flips/jitters validation images unless it is guarded with
    ``if self.trainer.training:``. Validation metrics become noisy and pessimistic.
    """

    code = "MLR224"
    name = "batch-hook-augments-eval"
    checklist = "augmentations"
    severity = "error"
    message = "Batch-transfer hook augments validation/test batches"
    suggestion = "Guard the augmentation: if self.trainer.training: x = self.augment(x)."
    VALID = [
        _LM + "    def on_after_batch_transfer(self, batch, idx):\n        x, y = batch\n"
        "        if self.trainer.training:\n            x = self.augment(x)\n        return x, y\n"
    ]
    INVALID = [
        _LM + "    def on_after_batch_transfer(self, batch, idx):\n        x, y = batch\n"
        "        x = self.augment(x)\n        return x, y\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules + project.datamodules:
            for hook in _HOOKS:
                method = cls.methods.get(hook)
                if method is None:
                    continue
                file = project.class_file(cls)
                body = file.module.code_for_node(method.node)
                if re.search(r"\btraining\b|\bstage\b|dataloader_idx\s*==", body):
                    continue
                for call in method.calls:
                    if re.search(r"aug", call.raw, re.I) or is_random_transform(call.short):
                        yield self.at(
                            file,
                            call.node,
                            f"{call.code(50)} in {cls.name}.{hook} also runs on val/test batches",
                        )
                        break
