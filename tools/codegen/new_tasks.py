"""Task parts of the tasks added after the first three (issue 10): multi-label, regression, and later instance
segmentation and keypoints.

Kept apart from ``generator.py`` so each task is one registration here plus its own templates; the package's
``__init__`` merges ``NEW_TASK_PARTS`` into ``TASK_PARTS``. Task ids are the knowledge base's ids.
"""

from __future__ import annotations

from tools.codegen.generator import TaskParts

_MULTI_LABEL = TaskParts(
    model_template="multilabel_model.py.tmpl",
    data_template="multilabel_data.py.tmpl",
    model_class="MultiLabelModel",
    datamodule_class="MultiLabelDataModule",
    monitor="val/map",
    monitor_mode="max",
    title="Multi-label image classification",
    blurb=(
        "Any subset of the labels per image: one sigmoid output per label, BCEWithLogitsLoss with a per-label "
        "pos_weight from the training split, and per-label thresholds tuned on validation."
    ),
    model_fields=(
        '    dropout: float = Field(default=0.2, ge=0, lt=1, description="Dropout before the new head.")\n'
        "    use_pos_weight: bool = Field(\n"
        "        default=True,\n"
        '        description="BCE pos_weight = negatives/positives per label on the training split (rare labels).",\n'
        "    )\n"
        '    max_pos_weight: float = Field(default=10.0, ge=1, description="Cap on pos_weight (and 1/cap floor).")\n'
    ),
    num_classes_doc="Number of labels (tags); an image can carry any subset of them.",
    data_dir_doc="Folder with labels.csv (label lists or multi-hot columns) and images/.",
    data_format=(
        "`data_dir/labels.csv` and `data_dir/images/`. The CSV is either `image,labels` with `labels` a "
        "`;`-separated list of label names (empty for none; label order = sorted names), or `image,<label_1>,"
        "<label_2>,...` with one 0/1 column per label (multi-hot, column order kept). The split into "
        "train/val/test is seeded."
    ),
    loss_doc=(
        "`BCEWithLogitsLoss(pos_weight=...)` on raw logits and multi-hot float targets: each label is an "
        "independent yes/no (softmax cross-entropy would make labels compete). `pos_weight` = negatives/"
        "positives per label from the training split, capped at `max_pos_weight`."
    ),
    metrics_doc=(
        "`MultilabelAveragePrecision` (macro mAP, threshold-free, monitored), `MultilabelF1Score` macro and "
        "micro at 0.5, and `val/f1_tuned` with per-label thresholds tuned on validation (saved in the "
        "checkpoint as the `thresholds` buffer and used by `predict_step`)."
    ),
    augmentations_doc="RandomResizedCrop (scale >= 0.6, so labels are rarely cropped away), flip, colour jitter.",
    forward_assertion="assert out.shape == (1, ModelConfig().num_labels)",
    output_name="logits",
    count_field="num_labels",
    extra_tests_template="multilabel_tests.py.tmpl",
)

_REGRESSION = TaskParts(
    model_template="regression_model.py.tmpl",
    data_template="regression_data.py.tmpl",
    model_class="RegressionModel",
    datamodule_class="RegressionDataModule",
    monitor="val/mae",
    monitor_mode="min",
    title="Image regression",
    blurb=(
        "One or more numbers per image (an age, a score, a count): a linear head on normalised targets, "
        "Huber/MSE/L1 loss, MAE and RMSE in the data's units."
    ),
    model_fields=(
        '    dropout: float = Field(default=0.1, ge=0, lt=1, description="Dropout before the new head.")\n'
        "    # The loss, on normalised targets. mse fits the conditional mean and punishes large errors most: right\n"
        "    # for clean targets when RMSE is what you report. l1 fits the median and shrugs off outliers: right\n"
        "    # for noisy or long-tailed labels when MAE is what you report. huber (default) is squared below\n"
        "    # huber_delta and linear above it: MSE's smooth optimum with L1's robustness to the few badly\n"
        "    # labelled images most real data sets have.\n"
        '    loss: Literal["mse", "l1", "huber"] = Field(default="huber", description="mse | l1 | huber (see above).")\n'
        "    huber_delta: float = Field(\n"
        '        default=1.0, gt=0, description="Huber: errors under delta (in target std units) count squared."\n'
        "    )\n"
        "    normalize_targets: bool = Field(\n"
        '        default=True, description="Train on (y - mean) / std of the training split; undone in forward()."\n'
        "    )\n"
    ),
    num_classes_doc="Number of regression outputs (targets) per image.",
    data_dir_doc="Folder with targets.csv (image,<target>...) and images/.",
    data_format=(
        "`data_dir/targets.csv` and `data_dir/images/`: columns `image,<target_1>[,<target_2>...]`, one numeric "
        "column per output, in the data's own units. The split into train/val/test is seeded; the training "
        "split's mean/std normalise the targets (saved in the checkpoint, undone by `forward`)."
    ),
    loss_doc=(
        "`HuberLoss(delta=1.0)` on normalised targets by default; `model.loss` switches to `mse` (clean "
        "targets, RMSE matters) or `l1` (noisy/long-tailed targets, MAE matters), as config.py explains."
    ),
    metrics_doc="`MeanAbsoluteError` and `MeanSquaredError(squared=False)` (RMSE), in the data's units.",
    augmentations_doc=(
        "RandomResizedCrop (scale >= 0.8) and flip only: transforms that leave the target unchanged (no colour "
        "jitter, since many targets live in colour)."
    ),
    forward_assertion="assert out.shape == (1, ModelConfig().num_outputs)",
    output_name="predictions",
    count_field="num_outputs",
    extra_tests_template="regression_tests.py.tmpl",
)

_INSTANCE_SEGMENTATION = TaskParts(
    model_template="instance_model.py.tmpl",
    data_template="instance_data.py.tmpl",
    model_class="InstanceSegmentationModel",
    datamodule_class="InstanceSegmentationDataModule",
    monitor="val/segm_map",
    monitor_mode="max",
    title="Instance segmentation",
    blurb="A mask, a box, a class and a score per object: torchvision Mask R-CNN with an FPN on the backbone.",
    model_fields=(
        '    max_detections: int = Field(default=100, ge=1, description="Objects kept per image after NMS.")\n'
        "    # ROIs sampled per image for the box and mask heads. torchvision's COCO recipe uses 512; images with a\n"
        "    # handful of objects rarely have that many useful proposals, and the heads' cost grows with it (the\n"
        "    # box head's 12544x1024 matmul and RoIAlign's backward dominate a CPU step).\n"
        '    rois_per_image: int = Field(default=128, ge=16, description="ROI head samples per image (COCO: 512).")\n'
        "    trainable_backbone_layers: int = Field(\n"
        '        default=3, ge=0, le=5, description="With pretrained weights: ResNet stages trained (the rest frozen)."\n'
        "    )\n"
    ),
    num_classes_doc="Object classes WITHOUT background; Mask R-CNN adds class 0 for background.",
    data_dir_doc="COCO folder with annotations.json (polygons or RLE) and images/.",
    data_format=(
        "COCO instance format: `data_dir/annotations.json` and `data_dir/images/`; each annotation's "
        "`segmentation` is polygons or RLE (decoded with pycocotools). Category ids are mapped to labels "
        "1..num_classes in sorted id order (0 is background, added by the model). The split is seeded."
    ),
    loss_doc=(
        "torchvision Mask R-CNN's multi-task loss (RPN objectness + RPN boxes + ROI classification + ROI boxes + "
        "per-pixel mask BCE on the true class's mask), summed; each part is logged under `train/`."
    ),
    metrics_doc=(
        '`MeanAveragePrecision(iou_type=("bbox", "segm"))`: COCO mask mAP@[.5:.95] as `val/segm_map` '
        "(monitored), plus `segm_map_50`, `bbox_map`, `bbox_map_50` (needs `pycocotools`)."
    ),
    augmentations_doc=(
        "RandomPhotometricDistort, RandomZoomOut, horizontal flip, resize, SanitizeBoundingBoxes; boxes and masks "
        "(tv_tensors.Mask) are transformed together with the image."
    ),
    joint_note="; geometric ones move boxes and masks with the image",
    forward_assertion='assert isinstance(out, list) and set(out[0]) == {"boxes", "labels", "scores", "masks"}',
    output_name="boxes",
    export_template="instance_export.py.tmpl",
    extra_requirements=("pycocotools>=2.0.8",),
    gradient_clip_val=10.0,
    weight_decay=0.0001,
)

NEW_TASK_PARTS: dict[str, TaskParts] = {
    "multi_label": _MULTI_LABEL,
    "regression": _REGRESSION,
    "instance_segmentation": _INSTANCE_SEGMENTATION,
}
