"""Render a GenerateSpec into project files from the string templates in ``templates/``.

Templates are plain ``string.Template`` files (``${name}`` placeholders) so they read like the Python they
produce; the task-specific parts (model/data modules, metric to monitor, docs) come from ``TASK_PARTS`` and the
knowledge base (backbone head paths and feature nodes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from string import Template

from knowledge import load_knowledge
from tools.codegen.spec import GenerateSpec


@dataclass(frozen=True)
class TaskParts:
    """Everything that differs between tasks in the generated project."""

    model_template: str
    data_template: str
    model_class: str
    datamodule_class: str
    monitor: str
    monitor_mode: str
    title: str
    blurb: str
    model_fields: str
    num_classes_doc: str
    data_dir_doc: str
    data_format: str
    loss_doc: str
    metrics_doc: str
    augmentations_doc: str
    forward_assertion: str
    output_name: str
    joint_note: str = ""
    export_template: str = "export.py.tmpl"
    extra_requirements: tuple[str, ...] = ()
    gradient_clip_val: float = 1.0
    weight_decay: float = 0.05


_CLASSIFICATION = TaskParts(
    model_template="classification_model.py.tmpl",
    data_template="classification_data.py.tmpl",
    model_class="ClassificationModel",
    datamodule_class="ClassificationDataModule",
    monitor="val/acc",
    monitor_mode="max",
    title="Image classification",
    blurb="One label per image, trained with label-smoothed cross-entropy.",
    model_fields=(
        '    dropout: float = Field(default=0.2, ge=0, lt=1, description="Dropout before the new head.")\n'
        '    label_smoothing: float = Field(default=0.1, ge=0, lt=1, description="Softens one-hot targets.")\n'
    ),
    num_classes_doc="Number of classes (one per ImageFolder sub-directory).",
    data_dir_doc="ImageFolder root with train/<class>/ (and optionally test/<class>/).",
    data_format=(
        "`data_dir/train/<class_name>/*.jpg` (torchvision `ImageFolder`; classes sorted by folder name) and "
        "optionally `data_dir/test/<class_name>/*.jpg`. Without a test folder, a seeded `test_fraction` of the "
        "training images is held out. Synthetic data is used when `data_dir` is null."
    ),
    loss_doc="`CrossEntropyLoss(label_smoothing=0.1)` on raw logits (no softmax before it).",
    metrics_doc=(
        '`Accuracy(task="multiclass")` (micro and macro) and macro `F1Score`, logged as `train/`, `val/`, '
        "`test/`."
    ),
    augmentations_doc="RandomResizedCrop, horizontal flip, TrivialAugmentWide, RandomErasing.",
    forward_assertion="assert out.shape == (1, ModelConfig().num_classes)",
    output_name="logits",
)

_SEGMENTATION = TaskParts(
    model_template="segmentation_model.py.tmpl",
    data_template="segmentation_data.py.tmpl",
    model_class="SegmentationModel",
    datamodule_class="SegmentationDataModule",
    monitor="val/miou",
    monitor_mode="max",
    title="Semantic segmentation",
    blurb="A class for every pixel: DeepLabV3+-style decoder (ASPP + stride-8 skip) trained with CE + Dice.",
    model_fields=(
        '    decoder_channels: int = Field(default=128, ge=16, description="ASPP/decoder width.")\n'
        '    ignore_index: int = Field(default=255, description="Mask value excluded from loss and metrics.")\n'
        '    dice_weight: float = Field(default=0.5, ge=0, description="Weight of the Dice term next to CE.")\n'
    ),
    num_classes_doc="Number of mask labels, background included (mask values 0..num_classes-1; 255 = ignore).",
    data_dir_doc="Folder with images/ and masks/ (same file stems).",
    data_format=(
        "`data_dir/images/<name>.png|jpg` and `data_dir/masks/<name>.png`: single-channel PNGs of class "
        "indices (not colours), 255 for pixels to ignore. The split into train/val/test is seeded."
    ),
    loss_doc="`CrossEntropyLoss(ignore_index=255)` + 0.5 x soft Dice (keeps small classes from vanishing).",
    metrics_doc=(
        '`JaccardIndex(task="multiclass", average="macro")` (mIoU) and pixel accuracy, both ignoring 255.'
    ),
    augmentations_doc=(
        "RandomResizedCrop and horizontal flip applied jointly to image and mask, colour jitter on the image."
    ),
    joint_note="; geometric ones move the mask with the image",
    forward_assertion=(
        "assert out.shape == (1, ModelConfig().num_classes, ${smoke_image_size}, ${smoke_image_size})"
    ),
    output_name="logits",
    weight_decay=0.01,
)

_DETECTION = TaskParts(
    model_template="detection_model.py.tmpl",
    data_template="detection_data.py.tmpl",
    model_class="DetectionModel",
    datamodule_class="DetectionDataModule",
    monitor="val/map",
    monitor_mode="max",
    title="Object detection",
    blurb="Boxes with classes and scores: torchvision Faster R-CNN with an FPN on the chosen backbone.",
    model_fields=(
        '    fpn_channels: int = Field(default=128, ge=16, description="Width of the feature pyramid.")\n'
        '    max_detections: int = Field(default=100, ge=1, description="Boxes kept per image after NMS.")\n'
    ),
    num_classes_doc="Object classes WITHOUT background; the detector adds class 0 for background.",
    data_dir_doc="COCO folder with annotations.json and images/.",
    data_format=(
        "COCO format: `data_dir/annotations.json` and `data_dir/images/`. Category ids are mapped to labels "
        "1..num_classes in sorted id order (0 is background, added by the model). Images without annotations "
        "are kept as negatives. The split into train/val/test is seeded."
    ),
    loss_doc=(
        "torchvision Faster R-CNN's multi-task loss (RPN objectness + RPN box regression + ROI classification "
        "+ ROI box regression), summed; each part is logged under `train/`."
    ),
    metrics_doc=(
        '`MeanAveragePrecision(box_format="xyxy", iou_type="bbox")`: COCO mAP@[.5:.95] as `val/map`, plus '
        "`map_50`, `map_75`, `mar_100` (needs `pycocotools`)."
    ),
    augmentations_doc=(
        "RandomPhotometricDistort, RandomZoomOut, horizontal flip, resize, SanitizeBoundingBoxes; boxes are "
        "transformed together with the image."
    ),
    joint_note="; geometric ones move the boxes with the image",
    forward_assertion='assert isinstance(out, list) and set(out[0]) == {"boxes", "labels", "scores"}',
    output_name="boxes",
    export_template="detection_export.py.tmpl",
    extra_requirements=("pycocotools>=2.0.8",),
    gradient_clip_val=10.0,
    weight_decay=0.0001,
)

TASK_PARTS: dict[str, TaskParts] = {
    "classification": _CLASSIFICATION,
    "segmentation": _SEGMENTATION,
    "detection": _DETECTION,
}


def _template(name: str) -> Template:
    text = resources.files("tools.codegen").joinpath("templates", name).read_text(encoding="utf-8")
    return Template(text)


def _render(name: str, context: dict[str, str]) -> str:
    rendered = _template(name).substitute(context)
    return Template(rendered).safe_substitute(context) if "${" in rendered else rendered


def build_context(spec: GenerateSpec, parts: TaskParts) -> dict[str, str]:
    """Placeholder values shared by every template of the project."""
    kb = load_knowledge()
    backbone = kb.backbones[spec.backbone]
    pl_pkg = "lightning.pytorch" if spec.package == "lightning" else "pytorch_lightning"
    pl_import = (
        "import lightning.pytorch as pl" if spec.package == "lightning" else "import pytorch_lightning as pl"
    )
    dense = backbone.dense_features
    lightning_req = "lightning>=2.4,<3" if spec.package == "lightning" else "pytorch-lightning>=2.4,<3"
    requirements = [
        "torch>=2.5",
        "torchvision>=0.20",
        lightning_req,
        "torchmetrics>=1.5",
        "pydantic>=2.7",
        "pyyaml>=6",
        "tensorboard>=2.15",
        "onnx>=1.17",
        "onnxscript>=0.2",
        "onnxruntime>=1.20",
        *parts.extra_requirements,
    ]
    smoke_size = 64 if backbone.family not in ("vit",) else backbone.input_size
    context = {
        "project_name": spec.effective_project_name,
        "task": spec.task,
        "task_title": parts.title,
        "task_blurb": parts.blurb,
        "backbone": spec.backbone,
        "classifier_head": backbone.classifier_head,
        "num_classes": str(spec.num_classes),
        "num_classes_doc": parts.num_classes_doc,
        "image_size": str(spec.effective_image_size),
        "smoke_image_size": str(max(smoke_size, backbone.min_input_size)),
        "batch_size": str(spec.effective_batch_size),
        "lr": f"{spec.effective_lr:g}",
        "weight_decay": f"{parts.weight_decay:g}",
        "max_epochs": str(spec.max_epochs),
        "gradient_clip_val": f"{parts.gradient_clip_val:g}",
        "pl_pkg": pl_pkg,
        "pl_import": pl_import,
        "model_class": parts.model_class,
        "datamodule_class": parts.datamodule_class,
        "monitor": parts.monitor,
        "monitor_mode": parts.monitor_mode,
        "model_fields": parts.model_fields,
        "data_dir_doc": parts.data_dir_doc,
        "data_format": parts.data_format,
        "loss_doc": parts.loss_doc,
        "metrics_doc": parts.metrics_doc,
        "augmentations_doc": parts.augmentations_doc,
        "joint_note": parts.joint_note,
        "forward_assertion": parts.forward_assertion,
        "output_name": parts.output_name,
        "export_batch": "2",
        "check_batch": "3",
        "ignore_index": "255",
        "dependencies": "\n".join(f'    "{req}",' for req in requirements),
        "requirements": "\n".join(requirements) + "\n",
    }
    if dense:
        context.update(
            low_node=dense[0].node,
            low_channels=str(dense[0].channels),
            high_node=dense[-1].node,
            high_channels=str(dense[-1].channels),
            fpn_nodes=json.dumps([level.node for level in dense]),
            fpn_channels=json.dumps([level.channels for level in dense]),
        )
    return context


def render_project(spec: GenerateSpec) -> dict[str, str]:
    """All files of the project, relative path -> text (deterministic for a given spec)."""
    parts = TASK_PARTS[spec.task]
    context = build_context(spec, parts)
    context["forward_assertion"] = Template(parts.forward_assertion).safe_substitute(context)
    files = {
        "config.py": _render("config.py.tmpl", context),
        "model.py": _render(parts.model_template, context),
        "data.py": _render(parts.data_template, context),
        "train.py": _render("train.py.tmpl", context),
        "export.py": _render(parts.export_template, context),
        "tests/test_smoke.py": _render("test_smoke.py.tmpl", context),
        "README.md": _render("README.md.tmpl", context),
        "config.yaml": _render("config.yaml.tmpl", context),
        "pyproject.toml": _render("pyproject.toml.tmpl", context),
        "requirements.txt": context["requirements"],
    }
    return files
