"""MLR221: geometric augmentations move the targets (masks, boxes) with the image."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.common import GEOMETRIC_TRANSFORMS

_TARGETS = re.compile(r"\b(masks?|boxes|bboxes?|bbox|keypoints|segmentation|seg_map|label_map)\b")
_TARGET_DATASETS = {"VOCSegmentation", "VOCDetection", "CocoDetection", "Cityscapes", "SBDataset", "Kitti"}


class GeometricTransformImageOnly(Rule):
    """Geometric augmentations are applied to the image but not to its mask/boxes.

    torchvision's v1 transforms (``torchvision.transforms.RandomHorizontalFlip`` ...) only see one image: a
    flipped or cropped image with an unflipped mask or unmoved boxes teaches the model wrong labels. Use
    ``torchvision.transforms.v2`` with ``tv_tensors.Mask``/``BoundingBoxes`` (one call transforms both), or
    albumentations with ``mask=``/``bboxes=``.
    """

    code = "MLR221"
    name = "geometric-transform-image-only"
    checklist = "augmentations"
    severity = "error"
    message = "Geometric augmentation applied to the image only, not to its mask/boxes"
    suggestion = (
        "Use torchvision.transforms.v2 and call it on (image, target) with tv_tensors.Mask/BoundingBoxes, or "
        "albumentations A.Compose(..., bbox_params=...) with image=, mask=/bboxes=."
    )
    VALID = [
        "from torchvision.transforms import v2\nfrom torchvision import tv_tensors\n"
        "tf = v2.Compose([v2.RandomHorizontalFlip(), v2.RandomResizedCrop(512)])\n"
        "img, mask = tf(img, tv_tensors.Mask(mask))\n",
        "from torchvision import transforms as T\ntf = T.Compose([T.RandomHorizontalFlip(), T.ToTensor()])\n",
    ]
    INVALID = [
        "from torchvision import transforms as T\nclass Seg:\n    def __init__(self):\n"
        "        self.tf = T.Compose([T.RandomHorizontalFlip(), T.ToTensor()])\n"
        "    def __getitem__(self, i):\n        image, mask = self.load(i)\n        return self.tf(image), mask\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        v1 = [
            c
            for c in project.calls
            if c.short in GEOMETRIC_TRANSFORMS
            and c.resolved
            and c.name.startswith("torchvision.transforms.")
            and not c.name.startswith("torchvision.transforms.v2")
        ]
        if not v1:
            return
        target_files = [f for f in project.files if _TARGETS.search(f.source)]
        # A target_transform turns the spatial annotation into image-level labels (VOC multi-label
        # classification): nothing spatial is left to misalign.
        target_datasets = [
            c for c in project.calls if c.short in _TARGET_DATASETS and c.kw("target_transform") is None
        ]
        if not target_files and not target_datasets:
            return
        for call in v1:
            if call.file in target_files or target_datasets:
                yield self.at(
                    call.file,
                    call.node,
                    f"{call.code(60)} (torchvision v1) moves the image but not its targets",
                )
