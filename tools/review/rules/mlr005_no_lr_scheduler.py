"""MLR005: a learning-rate scheduler is configured."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.index import Call
from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Hit, PrimaryRule
from tools.review.rules.common import OPTIMIZERS, SCHEDULERS


def scheduler_calls(project: Project) -> list[Call]:
    return [
        c for c in project.calls if c.short in SCHEDULERS or "scheduler" in c.raw.lower().rsplit(".", 1)[-1]
    ]


def optimizer_calls(project: Project) -> list[Call]:
    return [c for c in project.calls if c.short in OPTIMIZERS and (not c.resolved or "optim" in c.name)]


class NoLrScheduler(PrimaryRule):
    """An optimizer is created but the learning rate is never scheduled.

    A constant learning rate leaves accuracy on the table: warm-up protects pretrained weights early on, and
    cosine/step decay lets the model settle into a minimum late in training. Return the scheduler from
    ``configure_optimizers`` (``{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": ...}}``)
    or step it in the loop. Checked: scheduler classes from ``torch.optim.lr_scheduler``, timm and
    transformers helpers, schedulers in Hydra YAML (``_target_``) and LightningCLI ``lr_scheduler`` configs.
    """

    code = "MLR005"
    name = "no-lr-scheduler"
    checklist = "lr-scheduler"
    severity = "warning"
    message = "The optimizer runs without a learning-rate scheduler"
    suggestion = (
        "Add a scheduler, e.g. CosineAnnealingLR(opt, T_max=self.trainer.max_epochs) returned from "
        "configure_optimizers as {'optimizer': opt, 'lr_scheduler': sched}."
    )
    VALID = [
        (
            "import torch\nimport lightning as L\nclass M(L.LightningModule):\n    def configure_optimizers(self):\n"
            "        opt = torch.optim.AdamW(self.parameters(), lr=1e-3)\n"
            "        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)\n"
            "        return {'optimizer': opt, 'lr_scheduler': sched}\n"
        ),
        (
            "import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
            "sched = torch.optim.lr_scheduler.StepLR(opt, 30)\n"
        ),
    ]
    INVALID = [
        (
            "import torch\nimport lightning as L\nclass M(L.LightningModule):\n    def configure_optimizers(self):\n"
            "        return torch.optim.Adam(self.parameters(), lr=1e-3)\n"
        ),
        "import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\nfor x in loader:\n    pass\n",
    ]

    def _yaml_schedulers(self, project: Project) -> list[str]:
        found = [f"{d.path}: _target_: {t}" for d, t, _ in project.yaml_targets(*SCHEDULERS)]
        found += [f"{d.path}:{line}: lr_scheduler" for d, _, line in project.yaml_key("lr_scheduler")]
        return found

    def check(self, project: Project) -> Iterable[Hit]:
        if scheduler_calls(project) or self._yaml_schedulers(project):
            return
        if not project.cli_calls:
            for cls in project.lightning_modules:
                if project.method(cls, "configure_optimizers") is None and not project.has_foreign_base(cls):
                    f = project.class_file(cls)
                    yield self.at(
                        f, cls.node.name, f"{cls.name} has no configure_optimizers: no optimizer or schedule"
                    )
        for cls in project.lightning_modules:
            conf = project.method(cls, "configure_optimizers")
            if conf is None:
                continue
            if any(c.short in OPTIMIZERS or "optim" in c.raw.lower() for c in conf.calls):
                f = next(f for f in project.files if conf in f.functions)
                yield self.at(f, conf.node.name, f"{cls.name}.configure_optimizers returns no LR scheduler")
        if not project.lightning_modules:
            for call in optimizer_calls(project):
                yield self.at(
                    call.file, call.node, f"{call.code()} is never paired with a learning-rate scheduler"
                )
                break

    def judge(self, project: Project) -> tuple[Status, str]:
        scheds = scheduler_calls(project)
        if scheds and all(project.is_missing(c.file, c.raw) for c in scheds):
            return "unknown", f"{scheds[0].code(50)} comes from a module that was not given"
        if scheds:
            configured = [
                s for s in scheds if s.raw.startswith(("self.hparams.", "self.cfg.", "cfg.", "config."))
            ]
            if (
                len(configured) == len(scheds)
                and project.yaml_configured
                and not self._yaml_schedulers(project)
            ) and project.hydra_group("model")[0] == "absent":
                return (
                    "unknown",
                    f"{scheds[0].code(50)}: the scheduler comes from a model config that was not given",
                )
            return "pass", f"{scheds[0].code()} at {scheds[0].where()}"
        yaml = self._yaml_schedulers(project)
        if yaml:
            return "pass", yaml[0]
        for cls in project.lightning_modules:
            if project.method(cls, "configure_optimizers") is None and (
                project.has_foreign_base(cls) or project.cli_calls
            ):
                return (
                    "unknown",
                    f"{cls.name} inherits/receives configure_optimizers from code not reviewed",
                )
        if project.cli_calls:
            return (
                "unknown",
                "LightningCLI: the optimizer and scheduler come from a config that was not given",
            )
        if project.external_model:
            return "unknown", project.external_model
        if project.lightning_modules:
            return "unknown", "the LightningModule defines no configure_optimizers in the reviewed code"
        return "not_applicable", "no optimizer in the reviewed code"
