"""MLR302: removed lightning hook."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.removed_apis import REMOVED_HOOKS


class RemovedLightningHook(Rule):
    """A LightningModule overrides a hook that Lightning 2.x no longer calls.

    ``training_epoch_end``/``validation_epoch_end`` (and the older ``validation_end``, ``on_epoch_end``...)
    were removed: Lightning 2.x raises at ``fit`` start when they are overridden, or (for the oldest names)
    silently never calls them, so epoch-level metrics are never computed.
    """

    code = "MLR302"
    name = "removed-lightning-hook"
    checklist = "lightning-module"
    severity = "error"
    message = "Hook removed in Lightning 2.x"
    suggestion = "Rename to the Lightning 2.x hook and collect step outputs in an attribute."
    VALID = [
        "import lightning as L\nclass M(L.LightningModule):\n    def on_validation_epoch_end(self):\n        pass\n"
    ]
    INVALID = [
        "import pytorch_lightning as pl\nclass M(pl.LightningModule):\n    def validation_epoch_end(self, outputs):\n        pass\n",
        "import pytorch_lightning as pl\nclass M(pl.LightningModule):\n    @pl.data_loader\n    def train_dataloader(self):\n        pass\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            file = project.class_file(cls)
            for name, method in cls.methods.items():
                if name in REMOVED_HOOKS:
                    yield self.at(
                        file,
                        method.node.name,
                        f"{cls.name}.{name} is not called by Lightning 2.x; use {REMOVED_HOOKS[name]}",
                    )
                for dec in method.node.decorators:
                    text = file.code(dec.decorator)
                    if text.endswith("data_loader"):
                        yield self.at(
                            file, dec, f"@{text} was removed; define the *_dataloader method without it"
                        )
