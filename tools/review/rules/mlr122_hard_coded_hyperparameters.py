"""MLR122: hard coded hyperparameters."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.common import OPTIMIZERS
from tools.review.rules.mlr003_config_without_validation import HYPER_KEYS, pydantic_configs


class HardCodedHyperparameters(Rule):
    """Hyperparameters are hard-coded literals in the training code.

    A learning rate or weight decay written into ``configure_optimizers`` cannot be changed per run, is not
    recorded by the logger, and differs silently between copies of the code. Take them from a validated
    config (or ``__init__`` arguments saved with ``save_hyperparameters``).
    """

    code = "MLR122"
    name = "hard-coded-hyperparameters"
    checklist = "pydantic-config"
    severity = "warning"
    message = "Hard-coded hyperparameters in the training code"
    suggestion = (
        "Read lr/weight_decay from the config (self.hparams.lr) instead of literals in the optimizer call."
    )
    VALID = [
        "import torch\nclass M:\n    def configure_optimizers(self):\n"
        "        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)\n"
    ]
    INVALID = [
        "import torch\nimport lightning as L\nclass M(L.LightningModule):\n    def configure_optimizers(self):\n"
        "        return torch.optim.AdamW(self.parameters(), lr=3e-4, weight_decay=0.05)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if pydantic_configs(project) or project.cli_calls:
            return
        has_config_class = any("dataclass" in project.kinds(c) for c in project.classes)
        for call in project.calls:
            if call.short not in OPTIMIZERS or call.func is None:
                continue
            if call.resolved and "optim" not in call.name:
                continue
            literal_keys = [
                a.keyword.value
                for a in call.node.args
                if a.keyword is not None
                and a.keyword.value in HYPER_KEYS | {"lr", "weight_decay", "momentum"}
                and isinstance(a.value, cst.Integer | cst.Float)
            ]
            if literal_keys and not has_config_class:
                yield self.at(call.file, call.node, f"{call.code(60)} hard-codes {', '.join(literal_keys)}")
