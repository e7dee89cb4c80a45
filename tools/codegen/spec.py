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

GenerateTask = Literal["classification", "segmentation", "detection"]
LightningPackage = Literal["lightning", "pytorch_lightning"]

# Tasks the generator covers, with the knowledge-base task that describes them.
SUPPORTED_TASKS: tuple[str, ...] = ("classification", "segmentation", "detection")
DEFAULT_IMAGE_SIZE = {"classification": 224, "segmentation": 512, "detection": 640, "regression": 224}
DEFAULT_BATCH_SIZE = {"classification": 64, "segmentation": 8, "detection": 8, "regression": 64}
DEFAULT_LR = {"classification": 3e-4, "segmentation": 3e-4, "detection": 1e-4, "regression": 3e-4}
DENSE_TASKS = ("segmentation", "detection")


def allowed_backbones(task: str) -> list[str]:
    """Backbones the generator can build for ``task`` (dense tasks need stride-8/16/32 feature maps)."""
    kb = load_knowledge()
    if task in DENSE_TASKS:
        return [name for name, bb in kb.backbones.items() if bb.dense_features]
    return list(kb.backbones)


MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 4096
PROJECT_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


def _image_size_schema(task: str, backbone: str) -> dict[str, Any] | None:
    """The JSON Schema of the image sizes ``_size_fits_backbone`` accepts for this pair (None: no size fits)."""
    info = load_knowledge().backbones[backbone]
    multiple = 32 if task == "segmentation" else 1
    if info.family == "vit":
        size = info.input_size
        fits = MIN_IMAGE_SIZE <= size <= MAX_IMAGE_SIZE and size % multiple == 0
        return {"const": size} if fits else None
    low = max(MIN_IMAGE_SIZE, info.min_input_size)
    low += -low % multiple
    schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": MAX_IMAGE_SIZE}
    if multiple > 1:
        schema["multipleOf"] = multiple
    return schema if low <= MAX_IMAGE_SIZE else None


def _document_valid_combinations(schema: dict[str, Any]) -> None:
    """Publish which (task, backbone, image_size) combinations the validators accept, as an ``anyOf``.

    The backbone list depends on the task and the smallest (or only) image size on the backbone, so the plain
    field schemas would call ``{"task": "segmentation", "backbone": "vit_b_16"}`` valid; one branch per task
    and group of backbones with the same size rule says it exactly (from the same knowledge base).
    """
    branches: list[dict[str, Any]] = []
    for task in SUPPORTED_TASKS:
        groups: dict[str, tuple[dict[str, Any], bool, list[str]]] = {}
        for backbone in allowed_backbones(task):
            size = _image_size_schema(task, backbone)
            if size is None:
                continue
            info = load_knowledge().backbones[backbone]
            default = (
                info.input_size
                if info.family == "vit"
                else max(DEFAULT_IMAGE_SIZE[task], info.min_input_size)
            )
            default_fits = _fits(size, default)
            key = repr((sorted(size.items()), default_fits))
            groups.setdefault(key, (size, default_fits, []))[2].append(backbone)
        for size, default_fits, backbones in groups.values():
            sizes = [size, {"type": "null"}] if default_fits else [size]
            branches.append(
                {
                    "properties": {
                        "task": {"const": task},
                        "backbone": {"enum": backbones},
                        "image_size": {"anyOf": sizes},
                    }
                }
            )
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

    task: GenerateTask = Field(description="classification | segmentation | detection")
    backbone: str = Field(description="torchvision backbone name, e.g. resnet18, mobilenet_v3_large.")
    num_classes: int = Field(
        ge=1,
        le=100_000,
        description="Classes to predict. Detection: object classes WITHOUT background (the generated model adds "
        "index 0 for background). Segmentation: every label in the masks, background included.",
    )
    image_size: int | None = Field(
        default=None,
        ge=MIN_IMAGE_SIZE,
        le=MAX_IMAGE_SIZE,
        description="Square input side; default per task. ViT backbones take exactly their input size, the "
        "others a minimum; segmentation needs a multiple of 32.",
    )
    pretrained: bool = Field(
        default=False, description="Default for model.pretrained in the generated config."
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

    @field_validator("task", mode="before")
    @classmethod
    def _task_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            task = load_knowledge().task(value)
            if task is not None and task.id in SUPPORTED_TASKS:
                return task.id
        return value

    @field_validator("backbone")
    @classmethod
    def _known_backbone(cls, value: str, info: ValidationInfo) -> str:
        name = value.strip().lower()
        task = info.data.get("task")
        allowed = allowed_backbones(task) if task else list(load_knowledge().backbones)
        if name not in allowed:
            raise ValueError(
                f"unsupported backbone {value!r} for {task or 'this task'}; allowed: {', '.join(allowed)}"
            )
        return name

    @field_validator("project_name")
    @classmethod
    def _project_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(PROJECT_NAME_PATTERN[1:-1], value):
            raise ValueError("project_name must start with a letter and use only a-z, 0-9, '-', '_' (max 64)")
        return value

    @model_validator(mode="after")
    def _size_fits_backbone(self) -> GenerateSpec:
        backbone = load_knowledge().backbones[self.backbone]
        size = self.effective_image_size
        if backbone.family == "vit" and size != backbone.input_size:
            raise ValueError(
                f"image_size: {self.backbone} takes exactly {backbone.input_size}px inputs, got {size}"
            )
        if size < backbone.min_input_size:
            raise ValueError(
                f"image_size: {self.backbone} needs at least {backbone.min_input_size}px, got {size}"
            )
        if self.task == "segmentation" and size % 32:
            raise ValueError(
                f"image_size: segmentation needs a multiple of 32 (stride-32 features), got {size}"
            )
        return self

    @property
    def effective_image_size(self) -> int:
        if self.image_size is not None:
            return self.image_size
        backbone = load_knowledge().backbones[self.backbone]
        default = DEFAULT_IMAGE_SIZE[self.task]
        return backbone.input_size if backbone.family == "vit" else max(default, backbone.min_input_size)

    @property
    def effective_batch_size(self) -> int:
        return self.batch_size or DEFAULT_BATCH_SIZE[self.task]

    @property
    def effective_lr(self) -> float:
        return self.lr or DEFAULT_LR[self.task]

    @property
    def effective_project_name(self) -> str:
        return self.project_name or f"{self.task}-{self.backbone}".replace("_", "-")


class GenerateResult(BaseModel):
    """The generated project: files (relative path -> text), the static review of them, and notes."""

    spec: GenerateSpec
    files: dict[str, str]
    review: dict[str, Any] | None = Field(description="Review report of the generated files (tools.review).")
    notes: list[str] = Field(default_factory=list)
