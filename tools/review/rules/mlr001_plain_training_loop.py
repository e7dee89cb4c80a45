"""MLR001: a LightningModule (not a hand-written loop) holds the training logic."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Hit, PrimaryRule


class PlainTrainingLoop(PrimaryRule):
    """A hand-written training loop (``loss.backward()``; ``optimizer.step()``) where Lightning belongs.

    A hand-rolled loop re-implements, usually incompletely, what ``LightningModule`` + ``Trainer`` give for
    free: device placement, mixed precision, gradient clipping and accumulation, checkpointing, early stopping,
    logging, distributed training and reproducible validation. Move the step logic into ``training_step`` /
    ``validation_step`` and let the Trainer run the loop. Manual optimization inside a LightningModule is fine;
    a Lightning Fabric loop still drives a plain ``nn.Module`` by hand and is reported too.
    """

    code = "MLR001"
    name = "plain-training-loop"
    checklist = "lightning-module"
    severity = "warning"
    message = "Hand-written training loop where a LightningModule and Trainer belong"
    suggestion = (
        "Move the forward/loss code into LightningModule.training_step (and validation_step), return the loss, "
        "and run it with L.Trainer(...).fit(model, datamodule=dm)."
    )
    VALID = [
        (
            "import lightning as L\nclass M(L.LightningModule):\n    def training_step(self, batch, i):\n"
            "        return self(batch).sum()\n"
        ),
    ]
    INVALID = [
        (
            "import torch\nfor epoch in range(10):\n    for x, y in loader:\n        opt.zero_grad()\n"
            "        loss = criterion(model(x), y)\n        loss.backward()\n        opt.step()\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        reported: set[int] = set()
        for call in project.backward_calls:
            loop = call.loops[0]
            if id(loop) in reported:
                continue
            reported.add(id(loop))
            kind = (
                "Lightning Fabric loop around a plain nn.Module"
                if project.uses_fabric
                else "Hand-written training loop"
            )
            yield self.at(call.file, loop, f"{kind} ({call.code()}) where a LightningModule belongs")

    def judge(self, project: Project) -> tuple[Status, str]:
        if project.lightning_modules:
            cls = project.lightning_modules[0]
            bases = ", ".join(cls.bases)
            return (
                "pass",
                f"class {cls.name}({bases}) at {project.class_file(cls).path}:{project.class_file(cls).line(cls.node)}",
            )
        missing_models = [
            c
            for c in project.calls
            if (c.short[:1].isupper() or c.short == "load_from_checkpoint")
            and project.is_missing(c.file, c.raw)
        ]
        model_configs = [c for c in project.calls if c.short == "instantiate" and "model" in c.code().lower()]
        if missing_models and (
            project.has_run or any(c.short == "load_from_checkpoint" for c in project.calls)
        ):
            return "unknown", f"{missing_models[0].code(50)} uses a class from a module that was not given"
        if model_configs and project.hydra_group("model")[0] == "absent":
            return "unknown", f"{model_configs[0].code(50)}: the model config was not given"
        foreign = [c for c in project.classes if project.has_foreign_base(c) and "model" in c.name.lower()]
        if foreign and (project.trainer_sites or project.fit_calls):
            cls = foreign[0]
            return (
                "unknown",
                f"class {cls.name}({', '.join(cls.bases)}) derives from a class not in the reviewed code",
            )
        if project.trainer_sites or project.fit_calls:
            return "unknown", "a Trainer is used but the LightningModule is defined elsewhere"
        modules = [c for c in project.classes if "torch_module" in project.kinds(c)]
        if modules:
            return "not_applicable", f"nn.Module {modules[0].name} without training code"
        return "not_applicable", "no model or training code in the reviewed code"
