"""MLR111: unseeded random split."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule
from tools.review.rules.data_splits import DL


class UnseededRandomSplit(Rule):
    """``random_split`` without a seeded ``generator``.

    Each run (and each process in DDP) then draws a different train/validation split: validation scores are
    not comparable between runs and, across restarts, validation images leak into training.
    """

    code = "MLR111"
    name = "unseeded-random-split"
    checklist = "data-module"
    severity = "warning"
    message = "random_split without a seeded generator"
    suggestion = "Pass generator=torch.Generator().manual_seed(42) to random_split."
    fixable = True
    VALID = [
        "import torch\n"
        + DL
        + "a, b = random_split(ds, [0.9, 0.1], generator=torch.Generator().manual_seed(0))\n"
    ]
    INVALID = [DL + "train_ds, val_ds = random_split(ds, [0.9, 0.1])\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls_named("random_split"):
            if call.kw("generator") is not None or call.positional(2) is not None or call.has_star_kwargs:
                continue
            torch_alias = next((k for k, v in call.file.aliases.items() if v == "torch"), None)
            expr = f"{torch_alias or 'torch'}.Generator().manual_seed(42)"
            fix = Fix(
                call.file.path,
                [Edit(call.node, add_kwargs=[("generator", expr)])],
                [] if torch_alias else [("torch", None, None)],
            )
            yield self.at(call.file, call.node, f"{call.code(60)} draws a different split every run", fix=fix)
