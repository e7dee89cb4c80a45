"""MLR003: configuration is a Pydantic model with validated fields."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.index import ClassInfo
from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Hit, PrimaryRule

CONFIG_NAME = re.compile(r"(config|cfg|conf|params|hparams|hyperparameters|settings|options|args)$", re.I)
HYPER_KEYS = {
    "lr",
    "learning_rate",
    "batch_size",
    "epochs",
    "max_epochs",
    "weight_decay",
    "momentum",
    "dropout",
    "num_classes",
    "image_size",
    "img_size",
    "num_workers",
    "seed",
    "warmup_epochs",
}
CONSTRAINTS = (
    "gt=",
    "ge=",
    "lt=",
    "le=",
    "min_length",
    "max_length",
    "multiple_of",
    "pattern=",
    "conint",
    "confloat",
    "PositiveInt",
    "PositiveFloat",
    "NonNegative",
    "Literal[",
    "field_validator",
    "model_validator",
    "validator",
)


def constrained(project: Project, cls: ClassInfo) -> bool:
    code = project.class_file(cls).module.code_for_node(cls.node)
    return any(c in code for c in CONSTRAINTS)


HYPER_FIELD = re.compile(
    r"^(lr|\w+_lr|learning_rate|\w*epochs?|batch_size|weight_decay|momentum|dropout\w*|\w*smoothing|warmup\w*|"
    r"num_classes|image_size|img_size|seed|max_steps|\w*clip\w*|\w+_alpha|betas?|eps|precision|accumulate\w*)$"
)


def pydantic_configs(project: Project) -> list[ClassInfo]:
    """Pydantic models that hold hyperparameters (API/result models of a service do not count)."""
    models = [c for c in project.classes if "pydantic" in project.kinds(c)]
    return [c for c in models if CONFIG_NAME.search(c.name) or any(HYPER_FIELD.match(f) for f in c.fields)]


def config_like(cls: ClassInfo) -> bool:
    """A class that holds training hyperparameters (not any data class: API models, results, settings)."""
    hyper = len(HYPER_KEYS & set(cls.fields))
    return hyper >= 2 or (hyper >= 1 and bool(CONFIG_NAME.search(cls.name)))


class ConfigWithoutValidation(PrimaryRule):
    """Hyperparameters live in a dataclass, dict or bare ``DictConfig`` without validation.

    A typo'd key or a negative learning rate in a dict/dataclass/OmegaConf config surfaces hours into a run
    (or never). A Pydantic model with constrained fields (``lr: float = Field(gt=0, le=1)``) rejects bad
    values at start-up with a clear message, documents the ranges, and serialises cleanly into the logger.
    Flagged: config-like ``@dataclass`` classes, module-level config dicts, ``@hydra.main`` entry points that
    use the ``DictConfig`` without converting it into a validated model.
    """

    code = "MLR003"
    name = "config-without-validation"
    checklist = "pydantic-config"
    severity = "warning"
    message = "Configuration without validation"
    suggestion = (
        "Define the config as a pydantic BaseModel with constrained fields, e.g. lr: float = Field(1e-3, gt=0), "
        "batch_size: int = Field(32, ge=1), and build it from the dict/DictConfig (Model(**cfg))."
    )
    VALID = [
        (
            "from pydantic import BaseModel, Field\nclass TrainConfig(BaseModel):\n"
            "    lr: float = Field(1e-3, gt=0)\n    batch_size: int = Field(32, ge=1)\n"
        ),
    ]
    INVALID = [
        "from dataclasses import dataclass\n@dataclass\nclass TrainConfig:\n    lr: float = 1e-3\n    batch_size: int = 32\n",
        "CONFIG = {'lr': 1e-3, 'batch_size': 32, 'epochs': 10}\n",
        (
            "import hydra\nfrom omegaconf import DictConfig\n@hydra.main(config_path='conf', config_name='config')\n"
            "def main(cfg: DictConfig) -> None:\n    train(cfg.lr)\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        hits = list(self._specific(project))
        yield from hits
        if not hits:
            yield from self._unvalidated(project)

    def _specific(self, project: Project) -> Iterable[Hit]:
        has_pydantic = bool(pydantic_configs(project))
        for cls in project.classes:
            if (
                "dataclass" in project.kinds(cls)
                and config_like(cls)
                and "pydantic" not in project.kinds(cls)
            ):
                f = project.class_file(cls)
                yield self.at(
                    f, cls.node.name, f"@dataclass {cls.name} holds hyperparameters without validation"
                )
        for f in project.files:
            for a in f.assignments:
                if (
                    a.func is None
                    and a.cls is None
                    and isinstance(a.value, cst.Dict)
                    and CONFIG_NAME.search(a.target)
                ):
                    keys = {
                        el.key.evaluated_value
                        for el in a.value.elements
                        if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString)
                    }
                    if len(HYPER_KEYS & keys) >= 2:
                        yield self.at(f, a.node, f"{a.target} is a plain dict of hyperparameters")
            if has_pydantic:
                continue
            for func in f.functions:
                for dec in func.node.decorators:
                    expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
                    name = f.resolve(f.code(expr))[0]
                    if name.endswith("hydra.main") or (
                        name == "main" and "hydra" in f.aliases.get("main", "")
                    ):
                        yield self.at(
                            f,
                            func.node.name,
                            f"@hydra.main {func.name}() uses the DictConfig without validating it",
                            "Validate the composed DictConfig: cfg = TrainConfig(**OmegaConf.to_container(cfg, "
                            "resolve=True)) with a pydantic model (or register a structured config schema).",
                        )

    @staticmethod
    def _opaque_config(project: Project) -> str | None:
        """A module/DataModule that takes one untyped config object (``def __init__(self, ..., cfg)``) built by a
        caller that was not given: whether that object is validated cannot be told here."""
        for cls in project.lightning_modules + project.datamodules:
            init = cls.methods.get("__init__")
            if init is None:
                continue
            for name, param in init.params.items():
                typed = param.annotation is not None and project.class_file(cls).code(
                    param.annotation.annotation
                )
                untyped_or_missing = not typed or project.is_missing(project.class_file(cls), typed)
                if untyped_or_missing and not project.has_run and _read_as_config(project, cls, name):
                    return (
                        f"{cls.name}.__init__ takes an opaque {name} object built by code that was not given"
                    )
        return None

    def _missing_config(self, project: Project) -> str | None:
        for (path, local), module in project.missing_imports.items():
            if CONFIG_NAME.search(local) or "config" in module.lower() or "settings" in module.lower():
                return f"{local} from {module} ({path})"
        return None

    def _unvalidated(self, project: Project) -> Iterable[Hit]:
        """The project trains/loads data but keeps its hyperparameters in no validated config at all."""
        if pydantic_configs(project) or self._missing_config(project) or self._opaque_config(project):
            return
        if not (project.has_run or project.has_model or project.has_data):
            return
        if project.cli_calls:
            call = project.cli_calls[0]
            yield self.at(
                call.file,
                call.node,
                "LightningCLI type-checks plain __init__ arguments but validates no value ranges",
                "Group the hyperparameters in a pydantic model with Field constraints and pass it to the module.",
            )
            return
        for call in project.calls_named("ArgumentParser"):
            yield self.at(call.file, call.node, "argparse hyperparameters: types only, no validated config")
            return
        for cls in project.lightning_modules + project.datamodules:
            init = cls.methods.get("__init__")
            if init is not None and len([p for p in init.params if p != "self"]) >= 1:
                file = project.class_file(cls)
                yield self.at(
                    file,
                    init.node.name,
                    f"{cls.name}.__init__ takes bare hyperparameters, no validated config",
                )
                return
        anchor = next(
            iter(project.trainer_calls or project.backward_calls or project.calls_named("DataLoader")), None
        )
        if anchor is not None:
            yield self.at(
                anchor.file, anchor.node, "Hyperparameters are literals in the code, not a validated config"
            )

    def judge(self, project: Project) -> tuple[Status, str]:
        models = pydantic_configs(project)
        good = [c for c in models if constrained(project, c)]
        if good:
            f = project.class_file(good[0])
            return (
                "pass",
                f"class {good[0].name}(BaseModel) with validated fields at {f.path}:{f.line(good[0].node)}",
            )
        if models:
            f = project.class_file(models[0])
            return "pass", f"class {models[0].name}(BaseModel) at {f.path}:{f.line(models[0].node)}"
        opaque = self._opaque_config(project)
        if opaque:
            return "unknown", opaque
        missing = self._missing_config(project)
        if missing:
            return "unknown", f"the config class is imported from a module that was not given: {missing}"
        return "not_applicable", "no model, data or training run in the reviewed code"


_CONFIG_SECTION = re.compile(r"^(loss|optim\w*|sched\w*|model|data\w*|trainer|callbacks|train\w*|net\w*)$")


def _read_as_config(project: Project, cls: ClassInfo, param: str) -> bool:
    """Whether ``cls`` reads hyperparameters or config sections off ``param`` (``cfg.loss``, ``self.c = c;
    self.c.optimizer``): judged by what the object is used for, not by how the parameter is spelled."""
    file = project.class_file(cls)
    start, _, end, _ = file.range(cls.node)
    text = "\n".join(file.lines[start - 1 : end])
    holders = [re.escape(param)]
    holders += [re.escape(m) for m in re.findall(rf"(self\.\w+)\s*=\s*{re.escape(param)}\b", text)]
    for holder in holders:
        for key in re.findall(rf"(?<![\w.]){holder}\.(\w+)", text):
            if HYPER_FIELD.match(key) or _CONFIG_SECTION.match(key):
                return True
    return False
