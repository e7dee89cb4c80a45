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
from tools.codegen.architectures import Architecture
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
    # Name of the config field that counts what is predicted (``num_labels``, ``num_outputs``...).
    count_field: str = "num_classes"
    # Task-specific smoke tests appended to ``test_smoke.py.tmpl`` (thresholds, normalisation, CSV reading).
    extra_tests_template: str | None = None


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
    backbone = kb.backbones.get(spec.backbone) if spec.backbone else None
    pl_pkg = "lightning.pytorch" if spec.package == "lightning" else "pytorch_lightning"
    pl_import = (
        "import lightning.pytorch as pl" if spec.package == "lightning" else "import pytorch_lightning as pl"
    )
    dense = backbone.dense_features if backbone else []
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
    context = {
        "project_name": spec.effective_project_name,
        "task": spec.task,
        "task_title": parts.title,
        "task_blurb": parts.blurb,
        "backbone": spec.backbone or "its own encoder",
        "classifier_head": backbone.classifier_head if backbone else "",
        "num_classes": str(spec.num_classes),
        "num_classes_doc": parts.num_classes_doc,
        "image_size": str(spec.effective_image_size),
        "batch_size": str(spec.effective_batch_size),
        "lr": f"{spec.effective_lr:g}",
        "weight_decay": f"{(spec.arch.recipe.weight_decay if spec.arch.recipe else parts.weight_decay):g}",
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
        "count_field": parts.count_field,
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
    context.update(architecture_context(spec, spec.arch, context))
    context["forward_assertion"] = Template(parts.forward_assertion).safe_substitute(context)
    files = {
        "config.py": _render("config.py.tmpl", context),
        "model.py": _render(parts.model_template, context),
        "data.py": _render(parts.data_template, context),
        "train.py": _render("train.py.tmpl", context),
        "export.py": _render(parts.export_template, context),
        "tests/test_smoke.py": _render("test_smoke.py.tmpl", context)
        + (_render(parts.extra_tests_template, context) if parts.extra_tests_template else ""),
        "README.md": _render("README.md.tmpl", context),
        "config.yaml": _render("config.yaml.tmpl", context),
        "pyproject.toml": _render("pyproject.toml.tmpl", context),
        "requirements.txt": context["requirements"],
    }
    return files


_DETECTION_LOSSES = {
    "faster-rcnn": "RPN objectness + RPN box regression + ROI classification + ROI box regression",
    "retinanet": "sigmoid focal classification + box regression",
    "fcos": "sigmoid focal classification + GIoU box regression + centerness",
    "ssdlite": "classification with hard-negative mining + smooth-L1 box regression",
}
_OPS = "torchvision.ops"


def _imports(names: dict[str, set[str]]) -> str:
    """``from module import a, b`` lines in the order ruff's isort wants (modules, then constants/classes)."""
    lines = []
    for module in sorted(names):
        ordered = sorted(names[module], key=lambda n: (not n.isupper(), not n[0].isupper(), n))
        lines.append(f"from {module} import {', '.join(ordered)}\n")
    return "".join(lines)


def _generic_detector_body(family: str) -> tuple[dict[str, set[str]], str]:
    """Imports and the body of ``build_detector`` for a detector on a knowledge-base backbone with an FPN."""
    common = {
        "torchvision.models.detection.anchor_utils": {"AnchorGenerator"},
        "torchvision.models.feature_extraction": {"create_feature_extractor"},
        _OPS: {"FeaturePyramidNetwork", "FrozenBatchNorm2d"},
    }
    size = "min_size=config.image_size,  # otherwise torchvision silently resizes to 800 px\n"
    size += "        max_size=config.image_size,\n"
    if family == "faster-rcnn":
        common["torchvision.models.detection"] = {"FasterRCNN"}
        common[_OPS] |= {"MultiScaleRoIAlign"}
        common["torchvision.ops.feature_pyramid_network"] = {"ExtraFPNBlock", "LastLevelMaxPool"}
        body = f"""    levels = len(FEATURE_NODES) + 1  # + the max-pooled level
    anchors = AnchorGenerator(
        sizes=tuple((base * 2**i,) for i in range(levels)),
        aspect_ratios=((0.5, 1.0, 2.0),) * levels,
    )
    roi_pool = MultiScaleRoIAlign(
        featmap_names=[str(i) for i in range(len(FEATURE_NODES))], output_size=7, sampling_ratio=2
    )
    return FasterRCNN(
        FPNBackbone(config, LastLevelMaxPool()),
        num_classes=config.num_classes + 1,  # + background (index 0)
        rpn_anchor_generator=anchors,
        box_roi_pool=roi_pool,
        {size}        box_detections_per_img=config.max_detections,
    )"""
        return common, body
    common["torchvision.ops.feature_pyramid_network"] = {"ExtraFPNBlock", "LastLevelP6P7"}
    extra = "FPNBackbone(config, LastLevelP6P7(config.fpn_channels, config.fpn_channels))"
    if family == "retinanet":
        common["torchvision.models.detection"] = {"RetinaNet"}
        anchors = """    anchors = AnchorGenerator(
        sizes=tuple((base * 2**i, round(base * 2**i * 1.26), round(base * 2**i * 1.59)) for i in range(levels)),
        aspect_ratios=((0.5, 1.0, 2.0),) * levels,
    )"""
        cls = "RetinaNet"
    else:
        common["torchvision.models.detection"] = {"FCOS"}
        anchors = """    anchors = AnchorGenerator(  # FCOS is anchor-free: one point (size) per location and level
        sizes=tuple((base * 2**i,) for i in range(levels)),
        aspect_ratios=((1.0,),) * levels,
    )"""
        cls = "FCOS"
    body = f"""    levels = len(FEATURE_NODES) + 2  # + P6 and P7
{anchors}
    return {cls}(
        {extra},
        num_classes=config.num_classes + 1,  # + background (index 0, never a target)
        anchor_generator=anchors,
        {size}        detections_per_img=config.max_detections,
    )"""
    return common, body


def _detection_context(spec: GenerateSpec, arch: Architecture, context: dict[str, str]) -> dict[str, str]:
    builder = arch.builder_for(spec.backbone)
    family = arch.name.split("-")[0] if arch.name.startswith(("faster", "retina")) else arch.name
    family = {"faster": "faster-rcnn", "retinanet": "retinanet"}.get(family, family)
    momentum = '    momentum: float = Field(default=0.9, ge=0, lt=1, description="SGD momentum.")\n'
    detections = (
        '    max_detections: int = Field(default=100, ge=1, description="Boxes kept per image after NMS.")\n'
    )
    if builder:
        per_img = "box_detections_per_img" if family == "faster-rcnn" else "detections_per_img"
        kwargs = (
            ""
            if family == "ssdlite"
            else (
                "        min_size=config.image_size,  # otherwise torchvision resizes to 800 px\n"
                "        max_size=config.image_size,\n"
            )
        )
        kwargs += f"        {per_img}=config.max_detections,\n"
        code = _render(
            "detection_builder.py.tmpl",
            {
                **context,
                "builder": builder,
                "builder_kwargs": kwargs,
                # SSDlite's reference trains its BatchNorm (large batches); the others freeze it.
                "coco_freeze": "" if family == "ssdlite" else "        freeze_batchnorm(model.backbone)\n",
            },
        )
        imports = _imports({_OPS: {"FrozenBatchNorm2d"}})
        stdlib = ""
        fields = detections + momentum
    else:
        names, body = _generic_detector_body(family)
        code = _render("detection_generic.py.tmpl", {**context, "generic_body": body})
        imports = _imports(names)
        stdlib = "from collections import OrderedDict\n"
        fields = (
            '    fpn_channels: int = Field(default=128, ge=16, description="Width of the feature pyramid.")\n'
            + detections
            + momentum
        )
    recipe = arch.recipe
    assert recipe is not None and recipe.optimizer == "sgd", arch.key
    multistep = recipe.schedule == "multistep"
    return {
        "detector_code": code.rstrip() + "\n",
        "detector_imports": imports,
        "detector_stdlib_imports": stdlib,
        "model_fields": fields,
        "loss_parts": _DETECTION_LOSSES[family],
        "recipe_source": recipe.source,
        "schedule_fn": "warmup_multistep" if multistep else "warmup_cosine",
        "schedule_doc": "x0.1 steps at 67% and 89% of training" if multistep else "cosine decay",
        "optimizer_name": "SGD (momentum 0.9)",
        "optimisation_doc": (
            f"SGD with momentum 0.9, lr {context['lr']} ({recipe.source}, scaled linearly to batch "
            f"{context['batch_size']}), weight decay {context['weight_decay']} (none on norms/biases), linear "
            f"warmup then {'x0.1 steps at 67% and 89%' if multistep else 'cosine decay'}, stepped per batch"
        ),
        "task_blurb": f"Boxes with classes and scores: {arch.title}.",
        "loss_doc": f"torchvision's {arch.title} multi-task loss ({_DETECTION_LOSSES[family]}), summed; "
        "each part is logged under `train/`.",
    }


def _segmentation_context(spec: GenerateSpec, arch: Architecture, context: dict[str, str]) -> dict[str, str]:
    builder = arch.builder_for(spec.backbone)
    common_fields = (
        '    ignore_index: int = Field(default=255, description="Mask value excluded from loss and metrics.")\n'
        '    dice_weight: float = Field(default=0.5, ge=0, description="Weight of the Dice term next to CE.")\n'
    )
    if builder:
        code = _render("segmentation_builder.py.tmpl", {**context, "builder": builder})
        plain, imports, fields = "import torchvision\n", "", common_fields
        pretrained = "self.config.pretrained or self.config.coco_pretrained"
    elif arch.name == "unet":
        code = _render("segmentation_unet.py.tmpl", context)
        plain, imports = "", ""
        fields = (
            '    unet_width: int = Field(default=32, ge=4, description="Channels of the first stage (x2 per stage).")\n'
            + common_fields
        )
        pretrained = "self.config.pretrained"
    else:
        code = _render("segmentation_deeplabv3plus.py.tmpl", context)
        plain = "import torchvision\n"
        imports = _imports(
            {
                "torchvision.models.feature_extraction": {"create_feature_extractor"},
                "torchvision.models.segmentation.deeplabv3": {"ASPP"},
            }
        )
        fields = (
            '    decoder_channels: int = Field(default=128, ge=16, description="ASPP/decoder width.")\n'
            + common_fields
        )
        pretrained = "self.config.pretrained"
    # isort wants one blank line between the imports and a constant, two before a def/class.
    lead = "" if code.startswith(("LOW_LEVEL", "#")) else "\n"
    return {
        "network_code": lead + code.rstrip() + "\n",
        "network_plain_imports": plain,
        "network_imports": imports,
        "model_fields": fields,
        "encoder_pretrained_expr": pretrained,
        "task_blurb": f"A class for every pixel: {arch.title}, trained with CE + Dice.",
    }


def architecture_context(spec: GenerateSpec, arch: Architecture, context: dict[str, str]) -> dict[str, str]:
    """Placeholders that depend on the architecture row: network code, imports, config fields, recipe, smoke."""
    kb = load_knowledge()
    info = kb.backbones.get(spec.backbone) if spec.backbone else None
    builder = arch.builder_for(spec.backbone)
    smoke = arch.smoke_image_size
    if info is not None:
        smoke = info.input_size if info.family == "vit" else max(smoke, info.min_input_size)
    smoke += -smoke % arch.image_multiple
    values = {
        "architecture": arch.name,
        "architecture_title": arch.title,
        "architecture_notes": (arch.notes[0].upper() + arch.notes[1:] + ".") if arch.notes else "",
        "on_backbone": f" on a torchvision `{spec.backbone}` backbone" if spec.backbone else "",
        "smoke_image_size": str(smoke),
        "smoke_batch_size": "2",
        "smoke_synthetic_size": "12",
        "smoke_steps": "-1",
        # A smoke profile at a large fixed input (ViT's 224 px, SSDlite's 320 px) needs more time per step.
        "smoke_timeout_s": str(arch.smoke_timeout_s if smoke <= 128 else max(arch.smoke_timeout_s, 360)),
        "optimizer_name": "AdamW",
        "optimisation_doc": (
            f"AdamW (lr {context['lr']}, weight decay {context['weight_decay']}, none on norms/biases), linear "
            "warmup then cosine decay stepped per batch"
        ),
        "coco_field": "",
    }
    if spec.backbone is None:
        values["backbone_field"] = ""
        values["backbone_yaml"] = ""
        values["backbone_doc"] = f"none: {arch.name} trains its own encoder from scratch (nothing downloads)."
    else:
        if builder:
            values["backbone_field"] = (
                f'    backbone: Literal["{spec.backbone}"] = Field(\n'
                f'        default="{spec.backbone}",\n'
                f'        description="Fixed by torchvision\'s {builder} builder.",\n'
                "    )\n"
            )
        else:
            values["backbone_field"] = (
                f'    backbone: str = Field(default="{spec.backbone}", description="torchvision.models builder name.")\n'
            )
        values["backbone_yaml"] = f"  backbone: {spec.backbone}\n"
        values["backbone_doc"] = (
            f"`{spec.backbone}` (`pretrained: false` by default so nothing downloads; pass `--pretrained` or set "
            "`model.pretrained: true` to fine-tune from torchvision's ImageNet weights; then consider a lower `lr`)."
        )
    if builder and arch.coco_weights:
        values["coco_field"] = (
            f"    coco_pretrained: bool = Field(\n        default={spec.coco_pretrained},\n"
            f'        description="Start from torchvision\'s COCO-trained {builder} (new class head).",\n    )\n'
        )
        values["backbone_doc"] += (
            f" `model.coco_pretrained: true` starts from torchvision's COCO-trained `{builder}` instead."
        )
    if spec.task == "detection":
        values.update(_detection_context(spec, arch, {**context, **values}))
    elif spec.task == "segmentation":
        values.update(_segmentation_context(spec, arch, {**context, **values}))
    return values
