"""What ``generate`` accepts (``GenerateSpec``) and returns (``GenerateResult``).

The spec is checked against the knowledge base and torchvision's model list before any file is written, so
a wrong backbone or an image size the backbone cannot take is a 422/exit-2 with the allowed values, never a
project that fails at its first training step.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from knowledge import load_knowledge
from tools.codegen.architectures import (
    DEFAULT_ARCHITECTURE,
    HEAD_ON_BACKBONE_TASKS,
    Architecture,
    architecture_for_builder,
    default_architecture,
    did_you_mean,
    find_architecture,
    task_architectures,
    unknown_architecture_message,
)

GenerateTask = Literal[
    "classification", "segmentation", "detection", "multi_label", "regression", "instance_segmentation"
]
LightningPackage = Literal["lightning", "pytorch_lightning"]

# Tasks the generator covers, with the knowledge-base task that describes them.
SUPPORTED_TASKS: tuple[str, ...] = ("classification", "segmentation", "detection")
DEFAULT_IMAGE_SIZE = {"classification": 224, "segmentation": 512, "detection": 640, "regression": 224}
DEFAULT_BATCH_SIZE = {"classification": 64, "segmentation": 8, "detection": 8, "regression": 64}
DEFAULT_LR = {"classification": 3e-4, "segmentation": 3e-4, "detection": 1e-4, "regression": 3e-4}
DENSE_TASKS: tuple[str, ...] = ("segmentation", "detection")

# --- tasks beyond the first three (issue 10): knowledge-base ids, each with its own templates -----------------
NEW_TASKS: tuple[str, ...] = ("multi_label", "regression", "instance_segmentation")
SUPPORTED_TASKS += NEW_TASKS
DEFAULT_IMAGE_SIZE |= {"multi_label": 224, "instance_segmentation": 512, "keypoints": 256}
DEFAULT_BATCH_SIZE |= {"multi_label": 64, "instance_segmentation": 4, "keypoints": 8}
DEFAULT_LR |= {"multi_label": 3e-4, "instance_segmentation": 1e-4, "keypoints": 1e-4}
DENSE_TASKS += ("instance_segmentation", "keypoints")


def allowed_backbones(task: str) -> list[str]:
    """Backbones the generator can build for ``task``: those of any of its registry rows, in knowledge order."""
    accepted = {name for arch in task_architectures(task) for name in arch.backbones()}
    return [name for name in load_knowledge().backbones if name in accepted]


MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 4096
PROJECT_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


def _size_rule(arch: Architecture, backbone: str | None) -> tuple[int | None, int, int]:
    """(exact size or None, minimum, multiple) an architecture on a backbone accepts."""
    info = load_knowledge().backbones.get(backbone) if backbone else None
    exact = arch.exact_image_size or (info.input_size if info and info.family == "vit" else None)
    low = max(MIN_IMAGE_SIZE, arch.min_image_size, info.min_input_size if info else 1)
    return exact, low, arch.image_multiple


def _image_size_schema(arch: Architecture, backbone: str | None) -> dict[str, Any] | None:
    """The JSON Schema of the image sizes ``_size_fits`` accepts for this pair (None: no size fits)."""
    exact, low, multiple = _size_rule(arch, backbone)
    if exact is not None:
        fits = MIN_IMAGE_SIZE <= exact <= MAX_IMAGE_SIZE and exact % multiple == 0
        return {"const": exact} if fits else None
    low += -low % multiple
    schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": MAX_IMAGE_SIZE}
    if multiple > 1:
        schema["multipleOf"] = multiple
    return schema if low <= MAX_IMAGE_SIZE else None


def default_image_size(task: str, arch: Architecture, backbone: str | None) -> int:
    """The task's usual size, raised to what the architecture and backbone need."""
    exact, low, multiple = _size_rule(arch, backbone)
    if exact is not None:
        return exact
    size = max(DEFAULT_IMAGE_SIZE[task], low)
    return size + (-size % multiple)


def _document_valid_combinations(schema: dict[str, Any]) -> None:
    """Publish which (task, architecture, backbone, image_size) combinations the validators accept, as ``anyOf``.

    The backbone list depends on the architecture and the image sizes on both, so the plain field schemas
    would call ``{"task": "segmentation", "backbone": "vit_b_16"}`` valid; one branch per task, architecture
    and group of backbones with the same size rule says it exactly (from the same registry). The architecture
    may be left out where the validators default it (the task's default, or a classifier's backbone family).
    """
    branches: list[dict[str, Any]] = []
    for task in SUPPORTED_TASKS:
        for arch in task_architectures(task):
            names = [arch.name, *arch.aliases]
            implicit = task in HEAD_ON_BACKBONE_TASKS or DEFAULT_ARCHITECTURE.get(task) == arch.name
            groups: dict[str, tuple[dict[str, Any], bool, bool, list[str | None]]] = {}
            for backbone in arch.backbone_choices():
                size = _image_size_schema(arch, backbone)
                if size is None:
                    continue
                default_fits = _fits(size, default_image_size(task, arch, backbone))
                coco = arch.coco_weights and arch.uses_builder(backbone)
                key = repr((sorted(size.items()), default_fits, coco))
                groups.setdefault(key, (size, default_fits, coco, []))[3].append(backbone)
            for size, default_fits, coco, backbones in groups.values():
                sizes = [size, {"type": "null"}] if default_fits else [size]
                known = [b for b in backbones if b]
                branch: dict[str, Any] = {
                    "properties": {
                        "task": {"const": task},
                        "architecture": {"anyOf": [{"enum": names}, {"type": "null"}]}
                        if implicit
                        else {"enum": names},
                        "backbone": {"anyOf": [{"enum": known}, {"type": "null"}]}
                        if known
                        else {"type": "null"},
                        "image_size": {"anyOf": sizes},
                        # COCO weights exist only for torchvision's builders that ship them.
                        "coco_pretrained": {"type": "boolean"} if coco else {"const": False},
                    }
                }
                if not implicit:
                    branch["required"] = ["architecture"]
                branches.append(branch)
    schema["anyOf"] = branches


def _fits(size_schema: dict[str, Any], size: int) -> bool:
    if "const" in size_schema:
        return bool(size == size_schema["const"])
    return bool(
        size_schema["minimum"] <= size <= size_schema["maximum"]
        and size % size_schema.get("multipleOf", 1) == 0
    )


class GenerateSpec(BaseModel):
    """A project to generate. Defaults are safe: no weight downloads, a tiny-data-friendly schedule."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_valid_combinations)

    task: GenerateTask = Field(
        description="classification | segmentation | detection | multi_label | regression | instance_segmentation"
    )
    architecture: str | None = Field(
        default=None,
        description="Model architecture by the names people use (torchvision builder names or short aliases: "
        "faster-rcnn, retinanet, fcos, ssdlite, deeplabv3, fcn, lraspp, unet, ...). Default: the task's usual "
        "one (classification: the backbone's family). `mlagent generate --list` shows them all.",
    )
    backbone: str | None = Field(
        default=None,
        description="torchvision backbone name, e.g. resnet18, mobilenet_v3_large. Default: the "
        "architecture's own (none for an architecture with its own encoder, e.g. unet).",
    )
    num_classes: int = Field(
        ge=1,
        le=100_000,
        description="Classes to predict. Detection: object classes WITHOUT background (the generated model adds "
        "index 0 for background; the same for instance segmentation). Segmentation: every label in the masks, "
        "background included. multi_label: the number of labels (tags). regression: the number of outputs "
        "(default 1). keypoints: keypoints per object (e.g. 17 for COCO people).",
    )
    image_size: int | None = Field(
        default=None,
        ge=MIN_IMAGE_SIZE,
        le=MAX_IMAGE_SIZE,
        description="Square input side; default per task. ViT backbones and SSDlite take exactly their input "
        "size, the others a minimum (and a multiple for some segmentation heads, see --list).",
    )
    pretrained: bool = Field(
        default=False, description="Default for model.pretrained (ImageNet backbone weights) in the config."
    )
    coco_pretrained: bool = Field(
        default=False,
        description="Default for model.coco_pretrained: start from torchvision's COCO (VOC labels for "
        "segmentation) weights of the whole model, new class head. Only for architectures whose torchvision "
        "builder has such weights; downloaded once by the user's run, never by the generator.",
    )
    batch_size: int | None = Field(default=None, ge=1, le=4096)
    lr: float | None = Field(default=None, gt=0, lt=1)
    max_epochs: int = Field(default=30, ge=1, le=10_000)
    package: LightningPackage = Field(
        default="lightning", description="Import lightning.pytorch or pytorch_lightning."
    )
    project_name: str | None = Field(
        default=None,
        description="Lowercase letters, digits, '-' or '_'.",
        json_schema_extra={"pattern": PROJECT_NAME_PATTERN},
    )
    review: bool = Field(default=True, description="Run the static review on the generated files.")

    @model_validator(mode="before")
    @classmethod
    def _regression_has_one_output_by_default(cls, data: Any) -> Any:
        """A request like 'estimate age from a face crop' names no count: a regression predicts one number unless told."""
        if isinstance(data, dict) and data.get("num_classes") is None:
            task = load_knowledge().task(data["task"]) if isinstance(data.get("task"), str) else None
            if task is not None and task.id == "regression":
                return {**data, "num_classes": 1}
        return data

    @field_validator("task", mode="before")
    @classmethod
    def _task_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            task = load_knowledge().task(value)
            if task is not None and task.id in SUPPORTED_TASKS:
                return task.id
        return value

    @model_validator(mode="before")
    @classmethod
    def _builder_name_as_backbone(cls, data: Any) -> Any:
        """``backbone=retinanet_resnet50_fpn`` (a detector where the backbone goes) means that architecture."""
        if not isinstance(data, dict) or data.get("architecture") is not None:
            return data
        backbone = data.get("backbone")
        if isinstance(backbone, str) and backbone.strip().lower() not in load_knowledge().backbones:
            found = architecture_for_builder(backbone)
            task = cls._task_alias(data.get("task"))
            if found is not None and found[0].task == task:
                return {**data, "architecture": found[0].name, "backbone": found[1]}
        return data

    @field_validator("architecture")
    @classmethod
    def _known_architecture(cls, value: str | None, info: ValidationInfo) -> str | None:
        task = info.data.get("task")
        if value is None or task is None:
            return value
        row = find_architecture(task, value)
        if row is None:
            raise ValueError(unknown_architecture_message(task, value))
        return row.name

    @field_validator("backbone")
    @classmethod
    def _known_backbone(cls, value: str | None, info: ValidationInfo) -> str | None:
        task = info.data.get("task")
        if value is None or task is None or "architecture" not in info.data:
            return value.strip().lower() if value else value
        name = value.strip().lower()
        arch_name = info.data.get("architecture")
        arch = (
            find_architecture(task, arch_name) if arch_name else default_architecture(task, name)
        ) or default_architecture(task, name)
        named = bool(arch_name) or task not in HEAD_ON_BACKBONE_TASKS
        allowed = arch.backbones() if named else allowed_backbones(task)
        where = f"{task}/{arch.name}" if named else task
        if not allowed:
            raise ValueError(f"{arch.name} has its own encoder and takes no backbone; leave backbone out")
        if name not in allowed:
            raise ValueError(
                f"unsupported backbone {value!r} for {where}{did_you_mean(name, allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )
        return name

    @field_validator("project_name")
    @classmethod
    def _project_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(PROJECT_NAME_PATTERN[1:-1], value):
            raise ValueError("project_name must start with a letter and use only a-z, 0-9, '-', '_' (max 64)")
        return value

    @model_validator(mode="after")
    def _resolve_and_check_size(self) -> GenerateSpec:
        arch = self.arch
        self.architecture = arch.name
        if self.backbone is None:
            self.backbone = arch.default_backbone
        if self.coco_pretrained and not (arch.coco_weights and arch.uses_builder(self.backbone)):
            raise ValueError(
                f"coco_pretrained: torchvision has COCO weights for {arch.name} only on "
                f"{', '.join(b for b, _ in arch.builders) or 'no backbone'}; got backbone {self.backbone}"
            )
        exact, low, multiple = _size_rule(arch, self.backbone)
        size = self.effective_image_size
        what = f"{arch.name}" + (f" on {self.backbone}" if self.backbone else "")
        if exact is not None and size != exact:
            raise ValueError(f"image_size: {what} takes exactly {exact}px inputs, got {size}")
        if size < low:
            raise ValueError(f"image_size: {what} needs at least {low}px, got {size}")
        if size % multiple:
            raise ValueError(
                f"image_size: {what} needs a multiple of {multiple} (feature strides), got {size}"
            )
        return self

    @property
    def arch(self) -> Architecture:
        """The registry row of this spec (the task's default when none was named)."""
        found = find_architecture(self.task, self.architecture) if self.architecture else None
        return found or default_architecture(self.task, self.backbone)

    @property
    def effective_image_size(self) -> int:
        if self.image_size is not None:
            return self.image_size
        return default_image_size(self.task, self.arch, self.backbone)

    @property
    def effective_batch_size(self) -> int:
        return self.batch_size or DEFAULT_BATCH_SIZE[self.task]

    @property
    def effective_lr(self) -> float:
        """The given LR, else the architecture's recipe scaled linearly to the batch size."""
        if self.lr:
            return self.lr
        recipe = self.arch.recipe
        if recipe is None or recipe.optimizer != "sgd":
            return DEFAULT_LR[self.task]
        return recipe.lr * self.effective_batch_size / recipe.reference_batch

    @property
    def effective_project_name(self) -> str:
        if self.project_name:
            return self.project_name
        arch = self.arch
        if self.task in HEAD_ON_BACKBONE_TASKS or DEFAULT_ARCHITECTURE.get(self.task) == arch.name:
            return f"{self.task}-{self.backbone}".replace("_", "-")
        named = self.backbone and len(arch.backbones()) > 1
        parts = [self.task, arch.name, *([self.backbone] if named and self.backbone else [])]
        return "-".join(parts).replace("_", "-")


class GenerateResult(BaseModel):
    """The generated project: files (relative path -> text), the static review of them, and notes."""

    spec: GenerateSpec
    files: dict[str, str]
    review: dict[str, Any] | None = Field(description="Review report of the generated files (tools.review).")
    notes: list[str] = Field(default_factory=list)
