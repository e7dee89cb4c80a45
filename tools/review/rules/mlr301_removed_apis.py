"""MLR301-MLR303: Lightning / torchmetrics APIs that no longer exist, each with its replacement."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.index import MISSING
from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule

#: Trainer argument -> (replacement advice, whether the fix can drop/replace it mechanically).
REMOVED_TRAINER_ARGS: dict[str, tuple[str, bool]] = {
    "gpus": ('accelerator="gpu", devices=N', True),
    "auto_select_gpus": ('devices="auto" (Lightning picks free GPUs itself)', True),
    "track_grad_norm": (
        "log lightning.pytorch.utilities.grad_norm(self, norm_type=2) in on_before_optimizer_step",
        False,
    ),
    "resume_from_checkpoint": ('trainer.fit(model, ckpt_path="...")', False),
    "progress_bar_refresh_rate": ("callbacks=[TQDMProgressBar(refresh_rate=N)]", False),
    "weights_summary": ("callbacks=[ModelSummary(max_depth=N)]", False),
    "checkpoint_callback": ("enable_checkpointing=True/False", False),
    "flush_logs_every_n_steps": ("the logger's flush_logs_every_n_steps / log_every_n_steps", False),
    "terminate_on_nan": ("detect_anomaly=True or a callback checking the loss", False),
    "amp_backend": ('precision="16-mixed"', False),
    "amp_level": ('precision="16-mixed"', False),
    "tpu_cores": ('accelerator="tpu", devices=N', False),
    "ipus": ("the lightning-graphcore package", False),
    "num_processes": ('accelerator="cpu", devices=N', False),
    "replace_sampler_ddp": ("use_distributed_sampler", False),
    "stochastic_weight_avg": ("callbacks=[StochasticWeightAveraging(swa_lrs=...)]", False),
    "multiple_trainloader_mode": ("CombinedLoader(..., mode=...)", False),
    "move_metrics_to_cpu": ("nothing: metrics are no longer accumulated by the Trainer", False),
    "auto_lr_find": ("Tuner(trainer).lr_find(model)", False),
    "auto_scale_batch_size": ("Tuner(trainer).scale_batch_size(model)", False),
    "prepare_data_per_node": ("LightningDataModule.prepare_data_per_node attribute", False),
    "truncated_bptt_steps": ("manual optimization with your own truncation", False),
}
REMOVED_HOOKS = {
    "training_epoch_end": "on_train_epoch_end (collect step outputs yourself)",
    "validation_epoch_end": "on_validation_epoch_end (collect step outputs yourself)",
    "test_epoch_end": "on_test_epoch_end (collect step outputs yourself)",
    "validation_end": "on_validation_epoch_end",
    "training_end": "on_train_epoch_end",
    "test_end": "on_test_epoch_end",
    "on_epoch_start": "on_train_epoch_start / on_validation_epoch_start",
    "on_epoch_end": "on_train_epoch_end / on_validation_epoch_end",
    "on_batch_start": "on_train_batch_start",
    "on_batch_end": "on_train_batch_end",
    "on_pretrain_routine_start": "on_fit_start",
    "on_pretrain_routine_end": "on_fit_start",
    "get_progress_bar_dict": "TQDMProgressBar.get_metrics",
}
TASK_METRICS = {
    "Accuracy",
    "F1Score",
    "FBetaScore",
    "Precision",
    "Recall",
    "AUROC",
    "AveragePrecision",
    "ConfusionMatrix",
    "JaccardIndex",
    "Specificity",
    "StatScores",
    "CohenKappa",
    "MatthewsCorrCoef",
    "ROC",
    "PrecisionRecallCurve",
    "CalibrationError",
    "HammingDistance",
    "ExactMatch",
    "HingeLoss",
    "Dice",
}


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
    ]

    def check(self, project: Project) -> Iterable[Hit]:
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


class MetricWithoutTask(Rule):
    """A torchmetrics wrapper (``Accuracy()``, ``F1Score()``, ...) is built without ``task=``.

    Since torchmetrics 0.11 these classes require ``task="binary" | "multiclass" | "multilabel"`` and raise
    otherwise. Pass ``task`` (and ``num_classes``/``num_labels``), or use the explicit class such as
    ``MulticlassAccuracy(num_classes=...)``. Fixed automatically when ``num_classes``/``num_labels`` is given.
    """

    code = "MLR303"
    name = "metric-without-task"
    checklist = "metric-prefixes"
    severity = "error"
    message = "torchmetrics metric without task="
    suggestion = 'Pass task="multiclass", num_classes=N (or use MulticlassAccuracy(num_classes=N)).'
    fixable = True
    VALID = [
        "import torchmetrics\nacc = torchmetrics.Accuracy(task='multiclass', num_classes=10)\n",
        "from torchmetrics.classification import MulticlassAccuracy\nacc = MulticlassAccuracy(num_classes=10)\n",
    ]
    INVALID = [
        "import torchmetrics\nacc = torchmetrics.Accuracy(num_classes=10)\n",
        "from torchmetrics import F1Score\nf1 = F1Score()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.short not in TASK_METRICS or not call.resolved or call.has_star_kwargs:
                continue
            if not call.name.startswith("torchmetrics") or call.name.startswith("torchmetrics.functional"):
                continue
            if call.kw("task") is not None or call.positional(0) is not None:
                continue
            task = "multiclass" if call.kw("num_classes") else "multilabel" if call.kw("num_labels") else None
            fix = Fix(call.file.path, [Edit(call.node, add_kwargs=[("task", f'"{task}"')])]) if task else None
            yield self.at(
                call.file,
                call.node,
                f"{call.code(60)} has no task= (required since torchmetrics 0.11)",
                fix=fix,
            )
