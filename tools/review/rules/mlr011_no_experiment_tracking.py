"""MLR011: the experiment is tracked (W&B, MLflow, TensorBoard, CSV)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.index import Call
from tools.review.models import Status
from tools.review.project import LOGGER_CLASSES, Project, Setting
from tools.review.rules.base import Hit, PrimaryRule

_LOOP_TRACKERS = (
    "wandb.",
    "mlflow.",
    "torch.utils.tensorboard",
    "tensorboardX",
    "aim.",
    "clearml.",
    "comet_ml.",
    "neptune.",
    "dvclive.",
)


def tracker_calls(project: Project) -> list[Call]:
    out = [c for c in project.calls if c.short in LOGGER_CLASSES or c.short == "SummaryWriter"]
    out += [c for c in project.calls if c.resolved and c.name.startswith(_LOOP_TRACKERS)]
    return out


def logger_from_config(project: Project, setting: Setting) -> tuple[str, str] | None:
    """For ``logger=<expr>`` built from a Hydra config: ('null'|'absent'|'selected', evidence); else None."""
    file = next((f for f in project.files if setting.where.startswith(f"{f.path}:")), project.files[0])
    codes = [setting.code]
    if isinstance(setting.node, cst.Name):
        codes += [file.code(v) for v in project.assigned_values(setting.node.value)]
    refs = [r for c in codes if (r := project.config_ref(file, c))]
    if not any(r.split(".")[0] == "logger" for r in refs):
        return None
    state, docs = project.hydra_group("logger")
    if state == "selected":
        targets = [t for d in docs for t, _ in d.targets()]
        return "selected", f"logger config {docs[-1].path}" + (f" ({targets[0]})" if targets else "")
    if state == "null":
        return "null", "logger is null in the Hydra defaults: nothing is tracked"
    return "absent", "the logger comes from a Hydra config that was not given"


class NoExperimentTracking(PrimaryRule):
    """Training is not tracked by an experiment logger.

    Without a tracker (W&B, MLflow, TensorBoard, CSV) there is no record of which code, config and data gave
    which metrics, and runs cannot be compared. ``logger=False`` switches Lightning's logging off entirely
    (``self.log`` then goes nowhere); leaving ``logger`` unset gives only an anonymous local default log.
    """

    code = "MLR011"
    name = "no-experiment-tracking"
    checklist = "experiment-tracking"
    severity = "warning"
    message = "No experiment logger: runs are not tracked"
    suggestion = (
        'Pass a logger, e.g. logger=WandbLogger(project="...", log_model=True), MLFlowLogger(...) or '
        'TensorBoardLogger("logs", name="...").'
    )
    VALID = [
        (
            "import lightning as L\nfrom lightning.pytorch.loggers import WandbLogger\n"
            "trainer = L.Trainer(logger=WandbLogger(project='x'))\n"
        ),
        (
            "import wandb\nwandb.init(project='x')\nfor x in loader:\n    loss = model(x)\n    loss.backward()\n"
            "    wandb.log({'train/loss': loss.item()})\n"
        ),
    ]
    INVALID = [
        "import lightning as L\ntrainer = L.Trainer(logger=False)\n",
        "import lightning as L\ntrainer = L.Trainer(max_epochs=3)\n",
        "for x in loader:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        yaml_loggers = project.yaml_targets(*LOGGER_CLASSES)
        if project.trainer_sites:
            found, any_open = project.trainer_setting("logger")
            for site, setting in found:
                source = logger_from_config(project, setting)
                if source is not None and source[0] == "null" and site.call is not None:
                    yield self.at(
                        site.call.file, setting.node or site.call.node, source[1], within=site.call.node
                    )
                    continue
                if setting.value is False or setting.value is None:
                    hit = Hit(
                        site.path, site.line, message=f"logger={setting.code} disables experiment logging"
                    )
                    if site.call is not None and setting.node is not None:
                        hit = self.at(site.call.file, setting.node, hit.message, severity="error")
                    yield hit
            if found or any_open or yaml_loggers or tracker_calls(project):
                return
            for site in project.trainer_sites:
                if site.call is not None:
                    yield self.at(site.call.file, site.call.node, f"{site.label} has no logger")
            return
        if project.backward_calls and not tracker_calls(project):
            call = project.backward_calls[0]
            yield self.at(call.file, call.loops[0], "The training loop logs to no experiment tracker")

    def judge(self, project: Project) -> tuple[Status, str]:
        found, any_open = project.trainer_setting("logger")
        if found:
            source = logger_from_config(project, found[0][1])
            if source is not None and source[0] == "absent":
                return "unknown", source[1]
            if source is not None:
                return "pass", source[1]
            return "pass", f"logger={found[0][1].code} at {found[0][1].where}"
        yaml_loggers = project.yaml_targets(*LOGGER_CLASSES)
        if yaml_loggers:
            doc, target, mapping = yaml_loggers[0]
            return "pass", f"{doc.path}:{mapping.line}: _target_: {target}"
        trackers = tracker_calls(project)
        if trackers:
            return "pass", f"{trackers[0].code(60)} at {trackers[0].where()}"
        if any_open:
            return "unknown", "the Trainer's logger comes from a config that was not reviewed"
        level = project.run_level()
        if level is not None:
            return level
        return "not_applicable", "no training in the reviewed code"
