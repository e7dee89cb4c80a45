"""Pydantic models of the task knowledge base.

The knowledge lives in YAML next to this module so that an ML engineer can correct a figure or add an
architecture without touching the recommender's code; these models are the schema that keeps those edits
honest (unknown keys, impossible ranges and dangling references fail at load time, not in a user's answer).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Device = Literal["edge", "server", "cpu"]
Level = Literal[1, 2, 3, 4, 5]


class _Strict(BaseModel):
    """Base for every knowledge record: typos in YAML keys are errors, not silently ignored fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureLevel(_Strict):
    """One feature map a dense head (FPN, DeepLab, UNet) can tap, named as a torchvision FX graph node."""

    node: str = Field(
        description="Node name for torchvision.models.feature_extraction.create_feature_extractor."
    )
    channels: int = Field(ge=1)
    stride: int = Field(ge=2, description="Downsampling factor of this map relative to the input image.")


class Backbone(_Strict):
    """An ImageNet backbone that exists in torchvision (the builder name is what ``get_model`` accepts)."""

    name: str = Field(description="torchvision.models builder name, e.g. 'resnet50'.")
    family: str
    params_m: float = Field(gt=0, description="Parameters in millions (classification model, 1000 classes).")
    gflops: float = Field(
        gt=0, description="GFLOPs per image at `input_size` (torchvision's weight metadata)."
    )
    imagenet_top1: float = Field(gt=0, le=100, description="Top-1 of torchvision's DEFAULT ImageNet weights.")
    input_size: int = Field(ge=16, description="Resolution the DEFAULT weights were evaluated at.")
    min_input_size: int = Field(ge=1, description="Smallest input the architecture accepts.")
    edge_friendly: bool = Field(description="Runs well on mobile/embedded accelerators (no exotic ops).")
    needs_pretraining: bool = Field(
        default=False, description="Trains poorly from scratch on small data (weak inductive bias, e.g. ViT)."
    )
    classifier_head: str = Field(description="Dotted path of the final nn.Linear, replaced for N classes.")
    classifier_in_features: int = Field(ge=1)
    dense_features: list[FeatureLevel] = Field(
        default_factory=list, description="Stride-8/16/32 maps for dense heads; empty = not usable densely."
    )
    notes: str = ""


class DeviceProfile(_Strict):
    """A deliberately simple latency model: fixed overhead plus work divided by effective throughput."""

    name: Device
    description: str
    overhead_ms: float = Field(ge=0)
    effective_gflops_per_ms: float = Field(gt=0, description="Sustained GFLOPs per millisecond at batch 1.")


class Variant(_Strict):
    """A size of an architecture that ships its own backbone (YOLO n/s/m, SegFormer B0/B2, ...)."""

    name: str
    gflops: float = Field(gt=0, description="GMACs at the architecture's reference_size.")


class Architecture(_Strict):
    """A model family for one task, with the traits the recommender scores on (1 = poor, 5 = best)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    summary: str
    accuracy: Level
    speed: Level
    data_efficiency: Level = Field(description="How well it does with few labelled images.")
    edge_friendly: bool
    needs_pretraining: bool = False
    imbalance_robust: bool = Field(
        default=False, description="Built to cope with rare classes (e.g. focal loss)."
    )
    gflops: float | None = Field(
        default=None, gt=0, description="GFLOPs of the whole model at `reference_size`; None = from backbone."
    )
    reference_size: int = Field(default=224, ge=16)
    head_cost_factor: float = Field(
        default=1.0, ge=1.0, description="Whole-model GFLOPs / backbone GFLOPs, for backbone-based estimates."
    )
    backbones: list[str] = Field(default_factory=list, description="torchvision backbones it pairs with.")
    backbone_note: str = Field(default="", description="For families with their own backbones (YOLO, MiT).")
    variants: list[Variant] = Field(
        default_factory=list, description="Sizes, smallest first, for architectures with their own backbones."
    )
    implementation: str = Field(description="Where a working implementation comes from.")
    license: str
    license_note: str = ""
    generate_supported: bool = Field(default=False, description="`mlagent generate` can write this project.")
    when_to_pick: list[str] = Field(min_length=1)
    avoid_when: list[str] = Field(default_factory=list)


class LossOption(_Strict):
    """A loss with the situation it is right for."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    code: str = Field(description="How to build it in PyTorch/torchvision.")
    use_when: Literal["default", "imbalanced", "noisy_labels", "boundaries", "outliers", "always"]
    why: str


class Augmentation(_Strict):
    """A torchvision.transforms.v2 transform and whether it must move masks/boxes together with the image."""

    transform: str = Field(description="Class name in torchvision.transforms.v2.")
    args: dict[str, object] = Field(default_factory=dict)
    joint: bool = Field(
        description="Geometric: apply to image and targets together (v2 does this with tv_tensors)."
    )
    strength: Literal["light", "medium", "strong"] = "light"
    note: str = ""


class MetricOption(_Strict):
    """A torchmetrics class (import path + constructor arguments that exist in torchmetrics 1.9)."""

    cls: str = Field(description="Importable path, e.g. 'torchmetrics.classification.MulticlassF1Score'.")
    args: dict[str, object] = Field(default_factory=dict)
    primary: bool = False
    note: str = ""
    requires: list[str] = Field(default_factory=list, description="Extra packages the metric needs.")


class OptimizerRange(_Strict):
    """Learning-rate range that works for fine-tuning (pretrained) and from scratch."""

    optimizer: Literal["AdamW", "SGD", "Adam"]
    lr_finetune: tuple[float, float]
    lr_scratch: tuple[float, float]
    weight_decay: float = Field(ge=0)
    extra: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> OptimizerRange:
        for low, high in (self.lr_finetune, self.lr_scratch):
            if not 0 < low <= high < 1:
                raise ValueError(f"learning-rate range must satisfy 0 < low <= high < 1, got {low}..{high}")
        return self


class Hyperparameters(_Strict):
    """Typical starting points for the task."""

    optimizers: list[OptimizerRange] = Field(min_length=1)
    batch_size: tuple[int, int]
    epochs: tuple[int, int]
    scheduler: str
    warmup: str
    gradient_clip_val: float = Field(gt=0)
    notes: list[str] = Field(default_factory=list)


class TaskKnowledge(_Strict):
    """Everything the recommender and the code generator know about one computer-vision task."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str
    aliases: list[str] = Field(default_factory=list, description="Other names users give the task.")
    keywords: dict[str, float] = Field(description="Free-text cue -> weight, used to recognise the task.")
    default_image_size: int = Field(ge=16)
    architectures: list[Architecture] = Field(min_length=1)
    losses: list[LossOption] = Field(min_length=1)
    augmentations: list[Augmentation] = Field(min_length=1)
    metrics: list[MetricOption] = Field(min_length=1)
    hyperparameters: Hyperparameters
    tips: list[str] = Field(min_length=1)
    pitfalls: list[str] = Field(default_factory=list, description="Mistakes users make on this task.")
    questions: list[str] = Field(
        default_factory=list, description="How users ask for this task; indexed by knowledge.retrieval."
    )

    @model_validator(mode="after")
    def _consistent(self) -> TaskKnowledge:
        ids = [a.id for a in self.architectures]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate architecture ids in task {self.id}: {ids}")
        if not any(m.primary for m in self.metrics):
            raise ValueError(f"task {self.id} needs one primary metric")
        if not any(loss.use_when in ("default", "always") for loss in self.losses):
            raise ValueError(f"task {self.id} needs a default loss")
        return self

    @property
    def generate_supported(self) -> bool:
        """True when `mlagent generate` can write a project for this task; False = recommend/knowledge only."""
        return any(arch.generate_supported for arch in self.architectures)

    def architecture(self, arch_id: str) -> Architecture:
        """The architecture with this id (KeyError when absent)."""
        for arch in self.architectures:
            if arch.id == arch_id:
                return arch
        raise KeyError(arch_id)


class KnowledgeBase(_Strict):
    """The loaded knowledge: tasks, backbones and device latency profiles, cross-checked."""

    tasks: dict[str, TaskKnowledge]
    backbones: dict[str, Backbone]
    devices: dict[str, DeviceProfile]

    @model_validator(mode="after")
    def _references_resolve(self) -> KnowledgeBase:
        for task in self.tasks.values():
            for arch in task.architectures:
                missing = [b for b in arch.backbones if b not in self.backbones]
                if missing:
                    raise ValueError(f"{task.id}/{arch.id} names unknown backbones {missing}")
                if arch.gflops is None and not arch.backbones and not arch.variants:
                    raise ValueError(f"{task.id}/{arch.id} needs gflops, variants or at least one backbone")
                if arch.backbones and arch.variants:
                    raise ValueError(
                        f"{task.id}/{arch.id}: give torchvision backbones or own variants, not both"
                    )
        for name in ("edge", "server", "cpu"):
            if name not in self.devices:
                raise ValueError(f"device profile {name!r} missing")
        return self

    def task(self, name: str) -> TaskKnowledge | None:
        """Look a task up by id or alias (case-insensitive, spaces/hyphens treated as underscores)."""
        key = name.strip().lower().replace("-", "_").replace(" ", "_")
        if key in self.tasks:
            return self.tasks[key]
        for task in self.tasks.values():
            if key in {a.lower().replace("-", "_").replace(" ", "_") for a in task.aliases}:
                return task
        return None

    def task_names(self) -> list[str]:
        """Canonical task ids, in a stable order."""
        return list(self.tasks)
