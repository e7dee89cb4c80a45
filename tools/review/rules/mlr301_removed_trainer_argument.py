"""MLR301: removed trainer argument."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.index import MISSING, literal
from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule
from tools.review.rules.removed_apis import REMOVED_TRAINER_ARGS


class RemovedTrainerArgument(Rule):
    """The Trainer gets an argument that was removed in Lightning 2.x.

    These arguments raise ``TypeError: Trainer.__init__() got an unexpected keyword argument`` on current
    Lightning (tutorials written for 1.x still use them). Each has a replacement; ``gpus=N`` and
    ``auto_select_gpus`` are fixed automatically.
    """

    code = "MLR301"
    name = "removed-trainer-argument"
    checklist = ""
    severity = "error"
    message = "Trainer argument removed in Lightning 2.x"
    suggestion = "Replace it with its Lightning 2.x equivalent (see the message)."
    fixable = True
    VALID = ['import lightning as L\ntrainer = L.Trainer(accelerator="gpu", devices=2)\n']
    INVALID = [
        "import pytorch_lightning as pl\ntrainer = pl.Trainer(gpus=1, max_epochs=5)\n",
        "import pytorch_lightning as pl\ntrainer = pl.Trainer(auto_select_gpus=True, track_grad_norm=2)\n",
        "import pytorch_lightning as pl\ntrainer = pl.Trainer(early_stop_callback=True, max_nb_epochs=10)\n",
        "from lightning.pytorch.cli import LightningCLI\nLightningCLI(trainer_defaults={'track_grad_norm': 2})\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.cli_calls:  # LightningCLI(trainer_defaults={...}) and its subclasses
            defaults = call.kw_node("trainer_defaults")
            if not isinstance(defaults, cst.Dict):
                continue
            for el in defaults.elements:
                key = literal(el.key) if isinstance(el, cst.DictElement) else None
                if isinstance(key, str) and key in REMOVED_TRAINER_ARGS:
                    yield self.at(
                        call.file,
                        el,
                        f"trainer_defaults[{key!r}] was removed in Lightning 2.x; use {REMOVED_TRAINER_ARGS[key][0]}",
                        within=call.node,
                    )
        for call in project.trainer_calls:
            for arg in call.node.args:
                if arg.keyword is None or arg.keyword.value not in REMOVED_TRAINER_ARGS:
                    continue
                key = arg.keyword.value
                advice, fixable = REMOVED_TRAINER_ARGS[key]
                fix = None
                if fixable and key == "gpus":
                    value = call.kw_value("gpus")
                    devices = call.file.code(arg.value) if value is MISSING else repr(value)
                    if value in (0, None, "0"):
                        fix = Fix(call.file.path, [Edit(call.node, remove_kwargs=["gpus"])])
                    elif call.kw("accelerator") is None and call.kw("devices") is None:
                        fix = Fix(
                            call.file.path,
                            [
                                Edit(
                                    call.node,
                                    remove_kwargs=["gpus"],
                                    add_kwargs=[("accelerator", '"gpu"'), ("devices", devices)],
                                )
                            ],
                        )
                elif fixable:
                    fix = Fix(call.file.path, [Edit(call.node, remove_kwargs=[key])])
                yield self.at(
                    call.file,
                    arg,
                    f"Trainer({key}=...) was removed in Lightning 2.x; use {advice}",
                    fix=fix,
                    within=call.node,
                )
