"""The architecture registry: which model the generator builds for a task, by the names people use.

One row (``Architecture``) per task x architecture, as data: its canonical name and the aliases users write
(torchvision builder names such as ``retinanet_resnet50_fpn`` and short forms such as ``retinanet``), which
backbones it takes (a fixed list, or every knowledge-base backbone / every one with stride-8/16/32 feature
maps), the image-size rule, licence and dependency, whether COCO-pretrained weights exist, the optimiser
recipe, and the size its smoke profile trains at. Templates and validators read these rows; nothing else
decides what can be generated, so a new task adds rows to ``ARCHITECTURES`` (and its templates) and is listed
by ``mlagent generate --list`` and checked by ``GenerateSpec`` with no other change.

Classification rows are the backbone families of the knowledge base (``resnet``, ``convnext``...): for a
classifier the architecture *is* the backbone family, and the backbone picks the variant.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Literal

from knowledge import load_knowledge

BackboneSet = Literal["all", "dense", "fixed", "none"]
TORCHVISION = "torchvision (BSD-3-Clause)"


@dataclass(frozen=True)
class OptimizerRecipe:
    """The optimiser a generated project starts from (knowledge/task_*.yaml ``hyperparameters``).

    ``lr`` is the recipe's learning rate at ``reference_batch`` images per step; the generated config scales it
    linearly with the batch size (the rule torchvision's detection references use).
    """

    optimizer: Literal["sgd", "adamw"]
    lr: float
    reference_batch: int
    weight_decay: float
    schedule: Literal["multistep", "cosine"]
    source: str


@dataclass(frozen=True)
class Architecture:
    """One generatable architecture of a task, with everything a user must know before choosing it."""

    task: str
    name: str
    title: str
    aliases: tuple[str, ...] = ()
    backbone_set: BackboneSet = "fixed"
    fixed_backbones: tuple[str, ...] = ()
    default_backbone: str | None = None
    builders: tuple[tuple[str, str], ...] = ()  # (backbone, torchvision builder with COCO/VOC weights)
    families: tuple[str, ...] = ()  # classification: knowledge-base families this row covers
    image_multiple: int = 1
    min_image_size: int = 32
    exact_image_size: int | None = None
    smoke_image_size: int = 64
    # Seconds a 20-step smoke run of this architecture may take on 2 loaded CPU cores (measured with a test run in
    # parallel: ResNet classifier 81 s, Faster R-CNN 118 s, Faster R-CNN v2 7 steps in 120 s). The project states
    # it as SMOKE_TIMEOUT_S and ``tools.smoke.smoke_policy`` gives it to every smoke run of the project.
    smoke_timeout_s: int = 180
    licence: str = TORCHVISION
    dependency: str = "torchvision"
    coco_weights: bool = False
    recipe: OptimizerRecipe | None = None
    notes: str = ""

    @property
    def key(self) -> str:
        return f"{self.task}/{self.name}"

    def backbones(self) -> list[str]:
        """Backbones this architecture accepts (knowledge-base names; ``[]`` when it has its own encoder)."""
        kb = load_knowledge()
        if self.backbone_set == "all":
            return [name for name, bb in kb.backbones.items() if bb.family in self.families]
        if self.backbone_set == "dense":
            return [name for name, bb in kb.backbones.items() if bb.dense_features]
        if self.backbone_set == "fixed":
            return list(self.fixed_backbones)
        return []

    def backbone_choices(self) -> list[str | None]:
        """``backbones()``, or ``[None]`` for an architecture with its own encoder (one choice: no backbone)."""
        return [*self.backbones()] or [None]

    def builder_for(self, backbone: str | None) -> str | None:
        """The torchvision builder that builds this architecture on ``backbone`` (None: the project builds it)."""
        return dict(self.builders).get(backbone or "")

    def uses_builder(self, backbone: str | None) -> bool:
        return self.builder_for(backbone) is not None

    def size_rule(self) -> str:
        """Human-readable image-size requirement, as ``--list`` shows it."""
        if self.exact_image_size:
            return f"exactly {self.exact_image_size}px"
        rule = f">= {self.min_image_size}px"
        return rule + (f", multiple of {self.image_multiple}" if self.image_multiple > 1 else "")


_DETECTION_SGD = OptimizerRecipe(
    "sgd", 0.02, 16, 1e-4, "multistep", "torchvision detection reference: SGD 0.02 @ batch 16, momentum 0.9"
)
_DENSE_SGD = OptimizerRecipe(
    "sgd", 0.01, 16, 1e-4, "multistep", "torchvision reference for RetinaNet/FCOS: SGD 0.01 @ batch 16"
)
_SSDLITE_SGD = OptimizerRecipe(
    "sgd", 0.15, 192, 4e-5, "cosine", "torchvision reference for SSDlite: SGD 0.15 @ batch 192, cosine"
)
_SEGMENTATION_ADAMW = OptimizerRecipe(
    "adamw", 3e-4, 8, 0.01, "cosine", "knowledge/task_segmentation.yaml: AdamW with warmup + cosine"
)
_CLASSIFICATION_ADAMW = OptimizerRecipe(
    "adamw", 3e-4, 64, 0.05, "cosine", "knowledge/task_classification.yaml: AdamW with warmup + cosine"
)

_CLASSIFICATION_FAMILIES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("resnet", "ResNet / ResNeXt", ("resnext",), ""),
    ("convnext", "ConvNeXt", (), ""),
    ("efficientnet", "EfficientNet / EfficientNetV2", ("efficientnet_v2", "efficientnetv2"), ""),
    ("mobilenet", "MobileNetV3", ("mobilenet_v3", "mobilenetv3"), ""),
    ("regnet", "RegNet", (), ""),
    (
        "vit",
        "Vision Transformer",
        ("vision_transformer",),
        "fixed input size; weak from scratch on small data",
    ),
    ("swin", "Swin Transformer / V2", ("swin_v2", "swin_transformer"), ""),
    ("maxvit", "MaxViT", (), "input side must be a multiple of 32 in practice"),
)


# Tasks whose model is a backbone with a new linear head: their architecture is the backbone family.
HEAD_ON_BACKBONE_TASKS: tuple[str, ...] = ("classification", "multi_label", "regression")
_HEAD_TITLES = {
    "classification": "classifier (new linear head)",
    "multi_label": "multi-label classifier (one sigmoid output per label)",
    "regression": "regressor (new linear head on normalised targets)",
}


def _classification_rows(task: str = "classification") -> list[Architecture]:
    """One row per knowledge-base backbone family for a head-on-backbone task (see ``HEAD_ON_BACKBONE_TASKS``)."""
    kb = load_knowledge()
    rows = []
    for family, title, aliases, notes in _CLASSIFICATION_FAMILIES:
        members = [name for name, bb in kb.backbones.items() if bb.family == family]
        if not members:
            continue
        first = kb.backbones[members[0]]
        exact = first.input_size if family == "vit" else None
        rows.append(
            Architecture(
                task=task,
                name=family,
                title=f"{title} {_HEAD_TITLES[task]}",
                aliases=aliases,
                backbone_set="all",
                families=(family,),
                default_backbone=members[0],
                min_image_size=max(32, min(kb.backbones[m].min_input_size for m in members)),
                exact_image_size=exact,
                smoke_image_size=exact or max(64, first.min_input_size),
                recipe=_CLASSIFICATION_ADAMW,
                notes=notes,
            )
        )
    return rows


_DETECTION_ROWS: tuple[Architecture, ...] = (
    Architecture(
        task="detection",
        name="faster-rcnn",
        title="Faster R-CNN + FPN (two-stage)",
        aliases=("fasterrcnn", "faster_rcnn", "fasterrcnn_resnet50_fpn", "frcnn"),
        backbone_set="dense",
        default_backbone="resnet50",
        builders=(("resnet50", "fasterrcnn_resnet50_fpn"),),
        coco_weights=True,
        smoke_timeout_s=240,
        recipe=_DETECTION_SGD,
        notes="the accurate default; other backbones get an FPN on their stride-8/16/32 maps",
    ),
    Architecture(
        task="detection",
        name="faster-rcnn-v2",
        title="Faster R-CNN v2 (improved heads, GroupNorm-free FPN recipe)",
        aliases=("fasterrcnn_v2", "faster_rcnn_v2", "fasterrcnn_resnet50_fpn_v2"),
        fixed_backbones=("resnet50",),
        default_backbone="resnet50",
        builders=(("resnet50", "fasterrcnn_resnet50_fpn_v2"),),
        coco_weights=True,
        smoke_timeout_s=420,
        recipe=_DETECTION_SGD,
        notes="+9 COCO mAP over v1 at ~1.5x the compute",
    ),
    Architecture(
        task="detection",
        name="faster-rcnn-mobilenet",
        title="Faster R-CNN on MobileNetV3-Large FPN (fast two-stage)",
        aliases=(
            "fasterrcnn_mobilenet_v3_large_fpn",
            "faster-rcnn-mobilenet-v3",
            "fasterrcnn_mobilenet",
            "faster_rcnn_mobilenet",
        ),
        fixed_backbones=("mobilenet_v3_large",),
        default_backbone="mobilenet_v3_large",
        builders=(("mobilenet_v3_large", "fasterrcnn_mobilenet_v3_large_fpn"),),
        coco_weights=True,
        smoke_timeout_s=240,
        recipe=_DETECTION_SGD,
        notes="CPU/edge-friendly two-stage detector",
    ),
    Architecture(
        task="detection",
        name="retinanet",
        title="RetinaNet + FPN (one-stage, focal loss)",
        aliases=("retinanet_resnet50_fpn", "retina-net", "retina_net"),
        backbone_set="dense",
        default_backbone="resnet50",
        builders=(("resnet50", "retinanet_resnet50_fpn"),),
        coco_weights=True,
        smoke_timeout_s=240,
        recipe=_DENSE_SGD,
    ),
    Architecture(
        task="detection",
        name="retinanet-v2",
        title="RetinaNet v2 (GIoU loss, GroupNorm head)",
        aliases=("retinanet_v2", "retinanet_resnet50_fpn_v2"),
        fixed_backbones=("resnet50",),
        default_backbone="resnet50",
        builders=(("resnet50", "retinanet_resnet50_fpn_v2"),),
        coco_weights=True,
        smoke_timeout_s=420,
        recipe=_DENSE_SGD,
    ),
    Architecture(
        task="detection",
        name="fcos",
        title="FCOS (anchor-free one-stage)",
        aliases=("fcos_resnet50_fpn",),
        backbone_set="dense",
        default_backbone="resnet50",
        builders=(("resnet50", "fcos_resnet50_fpn"),),
        coco_weights=True,
        smoke_timeout_s=240,
        recipe=_DENSE_SGD,
    ),
    Architecture(
        task="detection",
        name="ssdlite",
        title="SSDlite 320 on MobileNetV3-Large (mobile one-stage)",
        aliases=("ssdlite320_mobilenet_v3_large", "ssd-lite", "ssd_lite", "ssd"),
        fixed_backbones=("mobilenet_v3_large",),
        default_backbone="mobilenet_v3_large",
        builders=(("mobilenet_v3_large", "ssdlite320_mobilenet_v3_large"),),
        exact_image_size=320,
        min_image_size=320,
        smoke_image_size=320,
        coco_weights=True,
        smoke_timeout_s=360,
        recipe=_SSDLITE_SGD,
        notes="the torchvision builder fixes the input at 320px; needs long schedules (600 epochs in the recipe)",
    ),
)

_SEGMENTATION_ROWS: tuple[Architecture, ...] = (
    Architecture(
        task="segmentation",
        name="deeplabv3plus",
        title="DeepLabV3+-style decoder (ASPP + stride-8 skip), written in the project",
        aliases=("deeplabv3+", "deeplab-v3-plus", "deeplabv3-plus", "deeplab_v3_plus", "deeplab-plus"),
        backbone_set="dense",
        default_backbone="resnet18",
        image_multiple=32,
        recipe=_SEGMENTATION_ADAMW,
        notes="sharp borders from the stride-8 skip; any backbone with feature maps",
    ),
    Architecture(
        task="segmentation",
        name="deeplabv3",
        title="DeepLabV3 (torchvision, dilated backbone + ASPP)",
        aliases=(
            "deeplab",
            "deeplab-v3",
            "deeplab_v3",
            "deeplabv3_resnet50",
            "deeplabv3_mobilenet_v3_large",
        ),
        fixed_backbones=("resnet50", "mobilenet_v3_large"),
        default_backbone="resnet50",
        builders=(("resnet50", "deeplabv3_resnet50"), ("mobilenet_v3_large", "deeplabv3_mobilenet_v3_large")),
        image_multiple=8,
        coco_weights=True,
        smoke_timeout_s=300,
        recipe=_SEGMENTATION_ADAMW,
        notes="output stride 8 (resnet50) is slow on CPU; COCO weights use the 21 VOC classes",
    ),
    Architecture(
        task="segmentation",
        name="fcn",
        title="FCN (torchvision, dilated ResNet-50)",
        aliases=("fcn_resnet50", "fully-convolutional"),
        fixed_backbones=("resnet50",),
        default_backbone="resnet50",
        builders=(("resnet50", "fcn_resnet50"),),
        image_multiple=8,
        coco_weights=True,
        smoke_timeout_s=300,
        recipe=_SEGMENTATION_ADAMW,
    ),
    Architecture(
        task="segmentation",
        name="lraspp",
        title="LR-ASPP on MobileNetV3-Large (torchvision, mobile)",
        aliases=("lraspp_mobilenet_v3_large", "lr-aspp", "lr_aspp"),
        fixed_backbones=("mobilenet_v3_large",),
        default_backbone="mobilenet_v3_large",
        builders=(("mobilenet_v3_large", "lraspp_mobilenet_v3_large"),),
        image_multiple=32,
        coco_weights=True,
        recipe=_SEGMENTATION_ADAMW,
    ),
    Architecture(
        task="segmentation",
        name="unet",
        title="UNet (4 down/up stages with skips), written in the project",
        aliases=("u-net", "u_net"),
        backbone_set="none",
        image_multiple=16,
        recipe=_SEGMENTATION_ADAMW,
        notes="no ImageNet encoder: best for small, non-natural images (medical, industrial)",
    ),
)

_INSTANCE_SEGMENTATION_ROWS: tuple[Architecture, ...] = (
    Architecture(
        task="instance_segmentation",
        name="mask-rcnn",
        title="Mask R-CNN + FPN (Faster R-CNN with a mask head)",
        aliases=("maskrcnn", "mask_rcnn", "maskrcnn_resnet50_fpn", "mask-r-cnn"),
        backbone_set="all",
        families=("resnet",),  # torchvision's resnet_fpn_backbone builds ResNet/ResNeXt pyramids only
        default_backbone="resnet50",
        smoke_timeout_s=300,
        recipe=_DETECTION_SGD,
        notes="ResNet/ResNeXt FPN backbones; mask AP via torchmetrics (iou_type='segm')",
    ),
)

# The architecture a spec gets when it names none (what the generator built before the registry existed).
DEFAULT_ARCHITECTURE: dict[str, str] = {
    "segmentation": "deeplabv3plus",
    "detection": "faster-rcnn",
    "instance_segmentation": "mask-rcnn",
}


@cache
def architectures() -> tuple[Architecture, ...]:
    """Every generatable task x architecture, in ``--list`` order."""
    head_rows = [row for task in HEAD_ON_BACKBONE_TASKS for row in _classification_rows(task)]
    return (*head_rows, *_DETECTION_ROWS, *_SEGMENTATION_ROWS, *_INSTANCE_SEGMENTATION_ROWS)


def task_architectures(task: str) -> list[Architecture]:
    return [row for row in architectures() if row.task == task]


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def find_architecture(task: str, name: str) -> Architecture | None:
    """The row whose name or alias matches ``name`` (case, '_' and '-' insensitive), else None."""
    wanted = _normalise(name)
    for row in task_architectures(task):
        if wanted in {_normalise(n) for n in (row.name, *row.aliases)}:
            return row
    return None


def default_architecture(task: str, backbone: str | None) -> Architecture:
    """The architecture of a spec that names none: classification by the backbone's family, else the default."""
    rows = task_architectures(task)
    if task in HEAD_ON_BACKBONE_TASKS and backbone:
        info = load_knowledge().backbones.get(backbone)
        for row in rows:
            if info is not None and info.family in row.families:
                return row
    name = DEFAULT_ARCHITECTURE.get(task)
    found = find_architecture(task, name) if name else None
    return found or rows[0]


def did_you_mean(name: str, choices: list[str]) -> str:
    """' (did you mean X?)' for the closest choice, or '' (difflib: no dependency, deterministic)."""
    close = difflib.get_close_matches(_normalise(name), [_normalise(c) for c in choices], n=1, cutoff=0.6)
    if not close:
        return ""
    original = next(c for c in choices if _normalise(c) == close[0])
    return f" (did you mean {original!r}?)"


def unknown_architecture_message(task: str, name: str) -> str:
    """The error for an unknown architecture: the closest name people use, and every valid one."""
    rows = task_architectures(task)
    by_alias = {_normalise(alias): row.name for row in rows for alias in (row.name, *row.aliases)}
    close = difflib.get_close_matches(_normalise(name), list(by_alias), n=1, cutoff=0.6)
    hint = f" (did you mean {by_alias[close[0]]!r}?)" if close else ""
    names = ", ".join(row.name for row in rows)
    return f"unknown architecture {name!r} for {task}{hint}; valid: {names}"


def architecture_for_builder(name: str) -> tuple[Architecture, str | None] | None:
    """(row, backbone) for a torchvision builder name or alias written as a backbone, e.g. ``retinanet_resnet50_fpn``.

    Users often pass the detector where the backbone goes (``--backbone deeplabv3_mobilenet_v3_large``): the
    spec maps such a name to its architecture and backbone instead of refusing it.
    """
    wanted = _normalise(name)
    for row in architectures():
        if row.task in HEAD_ON_BACKBONE_TASKS:
            continue
        names = {_normalise(n) for n in (row.name, *row.aliases)}
        if wanted in names:
            for backbone in row.backbone_choices():
                if backbone and _normalise(backbone) in wanted:
                    return row, backbone
            return row, row.default_backbone
    return None


def listing() -> list[dict[str, str]]:
    """Rows of ``mlagent generate --list``: task x architecture x backbone with what each needs."""
    kb = load_knowledge()
    rows = []
    for arch in architectures():
        for backbone in arch.backbone_choices():
            info = kb.backbones.get(backbone) if backbone else None
            exact = arch.exact_image_size or (info.input_size if info and info.family == "vit" else None)
            low = max(arch.min_image_size, info.min_input_size if info else 1)
            size = f"exactly {exact}px" if exact else f">= {low}px"
            if arch.image_multiple > 1 and not exact:
                size += f", x{arch.image_multiple}"
            weights = "coco" if arch.uses_builder(backbone) and arch.coco_weights else ""
            rows.append(
                {
                    "task": arch.task,
                    "architecture": arch.name,
                    "backbone": backbone or "(own encoder)",
                    "image_size": size,
                    "weights": ", ".join(w for w in ("imagenet" if backbone else "", weights) if w) or "none",
                    "dependency": arch.dependency,
                    "licence": arch.licence,
                    "aliases": ", ".join(arch.aliases),
                }
            )
    return rows


# Knowledge-base architecture ids (knowledge/task_*.yaml) -> the registry row that generates them. An id absent
# here cannot be generated; ``CLOSEST_GENERATABLE`` names what to generate instead and why.
KNOWLEDGE_ARCHITECTURES: dict[tuple[str, str], str] = {
    ("classification", "convnext"): "convnext",
    ("classification", "efficientnet"): "efficientnet",
    ("classification", "resnet"): "resnet",
    ("classification", "mobilenet"): "mobilenet",
    ("classification", "regnet"): "regnet",
    ("classification", "vision_transformer"): "vit",
    ("detection", "faster_rcnn"): "faster-rcnn",
    ("detection", "retinanet"): "retinanet",
    ("detection", "ssdlite"): "ssdlite",
    ("segmentation", "deeplabv3plus"): "deeplabv3plus",
    ("segmentation", "unet"): "unet",
    ("segmentation", "lraspp"): "lraspp",
    ("multi_label", "cnn_multilabel"): "resnet",
    ("multi_label", "vit_multilabel"): "vit",
    ("regression", "cnn_regressor"): "resnet",
    ("instance_segmentation", "mask_rcnn"): "mask-rcnn",
}

CLOSEST_GENERATABLE: dict[tuple[str, str], tuple[str, str]] = {
    ("detection", "yolo_ultralytics"): (
        "fcos",
        "Ultralytics YOLO is AGPL-3.0 and an extra dependency; FCOS is the closest torchvision one-stage, "
        "anchor-free detector (BSD-3-Clause)",
    ),
    ("detection", "rt_detr"): (
        "retinanet-v2",
        "RT-DETR needs transformers/its own repository; RetinaNet v2 is the strongest torchvision one-stage",
    ),
    ("detection", "dino_detr"): (
        "faster-rcnn-v2",
        "DINO-DETR needs MMDetection/detrex; Faster R-CNN v2 is torchvision's most accurate detector",
    ),
    ("segmentation", "segformer"): (
        "deeplabv3plus",
        "SegFormer needs transformers and its MiT weights are non-commercial; DeepLabV3+ is the closest "
        "accurate torchvision-based head",
    ),
    ("segmentation", "mask2former"): (
        "deeplabv3plus",
        "Mask2Former needs detectron2/transformers; DeepLabV3+ is the closest semantic head the generator writes",
    ),
    ("instance_segmentation", "yolo_seg_ultralytics"): (
        "mask-rcnn",
        "Ultralytics YOLO-seg is AGPL-3.0 and an extra dependency; Mask R-CNN is torchvision's instance segmenter",
    ),
    ("instance_segmentation", "rtmdet_ins"): (
        "mask-rcnn",
        "RTMDet-Ins needs MMDetection; Mask R-CNN is the closest torchvision instance segmenter",
    ),
    ("instance_segmentation", "mask2former"): (
        "mask-rcnn",
        "Mask2Former needs detectron2/transformers; Mask R-CNN is the closest torchvision instance segmenter",
    ),
    ("multi_label", "ml_decoder"): (
        "resnet",
        "the ML-Decoder head is outside torchvision; a ResNet with one sigmoid output per label is the closest",
    ),
    ("regression", "ordinal_classification"): (
        "resnet",
        "the generator writes a direct regression head (Huber on normalised targets), not binned ordinal logits",
    ),
}


def generatable_row(task: str, knowledge_id: str, backbone: str | None = None) -> Architecture | None:
    """The registry row that generates the knowledge-base architecture ``knowledge_id`` of ``task``, if any.

    A classification entry can span families (the knowledge base's "ViT / Swin / MaxViT"): the backbone's
    family picks the row then.
    """
    name = KNOWLEDGE_ARCHITECTURES.get((task, knowledge_id))
    if name is None:
        return None
    if task in HEAD_ON_BACKBONE_TASKS and backbone and backbone in load_knowledge().backbones:
        return default_architecture(task, backbone)
    return find_architecture(task, name)


def closest_generatable(task: str, knowledge_id: str) -> tuple[Architecture, str] | None:
    """For a non-generatable knowledge-base architecture: the closest row the generator writes, and why."""
    found = CLOSEST_GENERATABLE.get((task, knowledge_id))
    row = find_architecture(task, found[0]) if found else None
    return (row, found[1]) if row is not None and found is not None else None
