"""MLR008: ModelCheckpoint, EarlyStopping and LearningRateMonitor are used."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.index import Call
from tools.review.models import Status
from tools.review.project import LIGHTNING, Project
from tools.review.rules.base import Edit, Fix, Hit, PrimaryRule
from tools.review.rules.common import CALLBACKS, SCHEDULERS, lightning_import_for, prefix_of
from tools.review.walk import find_all


def present_callbacks(project: Project) -> dict[str, str]:
    """Callback name -> evidence, from calls, project subclasses and YAML ``_target_`` entries."""
    found: dict[str, str] = {}
    for call in project.calls:
        if call.short in CALLBACKS and (not call.resolved or call.name.startswith(LIGHTNING)):
            found.setdefault(call.short, f"{call.code(60)} at {call.where()}")
    for cls in project.classes:
        for base in cls.base_shorts() & set(CALLBACKS):
            found.setdefault(base, f"class {cls.name}({base}) at {project.class_file(cls).path}")
    docs = project.yamls
    if project.hydra_primary is not None:
        docs = project.hydra_group("callbacks")[1]
    for doc in docs:
        for target, mapping in doc.targets():
            short = target.rsplit(".", 1)[-1]
            if short in CALLBACKS:
                found.setdefault(short, f"{doc.path}:{mapping.line}: _target_: {target}")
    return found


def checkpoint_saves(project: Project) -> list[Call]:
    """Checkpoint writes of a hand-written loop: torch.save, fabric.save, save_checkpoint."""
    return [
        c
        for c in project.calls
        if c.name == "torch.save"
        or c.short == "save_checkpoint"
        or (c.short == "save" and "fabric" in c.receiver)
    ]


def required_callbacks(project: Project) -> list[str]:
    """ModelCheckpoint and EarlyStopping always; LearningRateMonitor when an LR scheduler is configured."""
    from tools.review.rules.mlr005_no_lr_scheduler import scheduler_calls

    has_scheduler = bool(scheduler_calls(project)) or bool(project.yaml_targets(*SCHEDULERS))
    return [c for c in CALLBACKS if c != "LearningRateMonitor" or has_scheduler]


def monitor_key(project: Project) -> str | None:
    """The validation loss key to monitor (or another validation metric), if one is logged statically."""
    keys, _ = project.logged_keys
    val = [k for k, _, _ in keys if (p := prefix_of(k)) is not None and p[0] == "val"]
    for preferred in ("val/loss", "val_loss"):
        if preferred in val:
            return preferred
    losses = [k for k in val if "loss" in k]
    return next(iter(losses or val), None)


class MissingCallbacks(PrimaryRule):
    """The Trainer runs without the standard callbacks: checkpointing, early stopping, LR monitoring.

    ``ModelCheckpoint(monitor="val/loss")`` keeps the best model (not just the last), ``EarlyStopping`` stops
    a run that stopped improving, ``LearningRateMonitor`` puts the schedule next to the metrics so a bad
    schedule is visible. Callbacks found anywhere in the project (code, subclasses, Hydra YAML) count.
    """

    code = "MLR008"
    name = "missing-callbacks"
    checklist = "callbacks"
    severity = "warning"
    message = "Trainer without ModelCheckpoint / EarlyStopping / LearningRateMonitor"
    suggestion = (
        'callbacks=[ModelCheckpoint(monitor="val/loss", mode="min"), EarlyStopping(monitor="val/loss", '
        'patience=10), LearningRateMonitor(logging_interval="step")]'
    )
    fixable = True
    VALID = [
        (
            "import lightning as L\nfrom lightning.pytorch.callbacks import ModelCheckpoint, EarlyStopping, "
            "LearningRateMonitor\ntrainer = L.Trainer(callbacks=[ModelCheckpoint(monitor='val/loss'), "
            "EarlyStopping(monitor='val/loss'), LearningRateMonitor()])\n"
        ),
        "import lightning as L\ntrainer = L.Trainer(**cfg)\n",
    ]
    INVALID = [
        "import lightning as L\ntrainer = L.Trainer(max_epochs=5)\n",
        (
            "import pytorch_lightning as pl\nfrom pytorch_lightning.callbacks import ModelCheckpoint\n"
            "trainer = pl.Trainer(callbacks=[ModelCheckpoint()])\n"
        ),
        "import torch\nfor x in loader:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n",
    ]

    def _config_callbacks(self, project: Project) -> bool:
        """Whether callbacks come from a config that was not given (Hydra group absent)."""
        from_config = any(
            "callbacks" in c.code().lower()
            for c in project.calls
            if c.short in {"instantiate", "instantiate_callbacks"}
        )
        return from_config and project.hydra_group("callbacks")[0] == "absent"

    def check(self, project: Project) -> Iterable[Hit]:
        found = present_callbacks(project)
        missing = [c for c in required_callbacks(project) if c not in found]
        if project.trainer_sites:
            if not missing:
                return
            _, any_open = project.trainer_setting("callbacks")
            if any_open or self._config_callbacks(project):
                return
            for site in project.trainer_sites:
                if site.call is None or site.call.short != "Trainer":
                    if site.call is not None:
                        yield self.at(
                            site.call.file, site.call.node, f"{site.label}: no {', '.join(missing)}"
                        )
                    continue
                yield self.at(
                    site.call.file,
                    site.call.node,
                    f"Trainer without {', '.join(missing)}",
                    fix=self._fix(project, site.call, missing),
                )
            return
        if project.backward_calls and not project.lightning_modules:
            saves = checkpoint_saves(project)
            # Stopping early is a patience counter/early stopper or a break out of the epoch loop; tracking a
            # best score (best_acc) only selects a checkpoint.
            patience = project.mentions(r"patience|early_stop") or _breaks_epoch_loop(project)
            if saves and patience:
                return
            what = [w for w, ok in (("checkpointing", saves), ("early stopping", patience)) if not ok]
            call = project.backward_calls[0]
            yield self.at(
                call.file,
                call.loops[0],
                f"The hand-written loop has no {' or '.join(what)}",
                "Use Lightning's Trainer with ModelCheckpoint, EarlyStopping and LearningRateMonitor callbacks.",
            )

    def _fix(self, project: Project, call, missing: list[str]) -> Fix | None:  # type: ignore[no-untyped-def]
        arg = call.kw("callbacks")
        key = monitor_key(project)
        if ("EarlyStopping" in missing or "ModelCheckpoint" in missing) and key is None:
            return None
        mode = "min" if key and "loss" in key else "max"
        ctor = {
            "ModelCheckpoint": f'ModelCheckpoint(monitor="{key}", mode="{mode}", save_last=True)',
            "EarlyStopping": f'EarlyStopping(monitor="{key}", mode="{mode}", patience=10)',
            "LearningRateMonitor": 'LearningRateMonitor(logging_interval="step")',
        }
        parts: list[str] = []
        imports: list[tuple[str, str | None, str | None]] = []
        for name in missing:
            expr, imp = lightning_import_for(call.file, name, "callbacks")
            parts.append(ctor[name].replace(name, expr, 1))
            if imp[0]:
                imports.append((imp[0], imp[1], None))
        from tools.review.fix import argument_indent, list_literal

        indent = argument_indent(call.node)
        if arg is None:
            edit = Edit(call.node, add_kwargs=[("callbacks", list_literal(parts, indent))])
        else:
            import libcst as cst

            if not isinstance(arg.value, cst.List):
                return None
            existing = [call.file.module.code_for_node(e.value) for e in arg.value.elements]
            edit = Edit(
                call.node,
                add_kwargs=[("callbacks", list_literal(existing + parts, indent))],
                remove_kwargs=["callbacks"],
            )
        return Fix(call.file.path, [edit], imports)

    def judge(self, project: Project) -> tuple[Status, str]:
        found = present_callbacks(project)
        required = required_callbacks(project)
        if found and all(c in found for c in required):
            unverifiable = any(project.has_foreign_base(c) for c in project.lightning_modules) or (
                not project.lightning_modules and project.external_model
            )
            if unverifiable and project.calls_named(("ModelCheckpoint", "EarlyStopping")):
                return "unknown", "the monitored keys would be logged by model code that was not given"
            return "pass", "; ".join(found[c] for c in required)
        level = project.run_level()
        if level is not None:
            return level
        if project.backward_calls and not project.lightning_modules:
            saves = checkpoint_saves(project)
            if saves and (project.mentions(r"patience|early_stop") or _breaks_epoch_loop(project)):
                return (
                    "pass",
                    f"the loop saves the best checkpoint ({saves[0].code(50)} at {saves[0].where()}) and stops early",
                )
        if project.trainer_sites or self._config_callbacks(project):
            return "unknown", "callbacks come from a config that was not reviewed"
        if project.lightning_modules:
            return "unknown", "no Trainer in the reviewed code: callbacks are set where the Trainer is built"
        if found:
            return "pass", "; ".join(found.values())
        return "not_applicable", "no training in the reviewed code"


def _breaks_epoch_loop(project: Project) -> bool:
    """Whether a hand-written training loop's outer (epoch) loop holds a ``break``."""
    return any(bool(call.loops and find_all(call.loops[0], cst.Break)) for call in project.backward_calls)
