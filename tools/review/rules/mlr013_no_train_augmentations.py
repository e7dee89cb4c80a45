"""MLR013: training data is augmented."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Hit, PrimaryRule
from tools.review.rules.common import IMAGE_DATASETS, is_random_transform, transform_calls


class NoTrainAugmentations(PrimaryRule):
    """An image pipeline trains without any random augmentation.

    Without augmentation a CNN/ViT memorises the training images: the gap between training and validation
    accuracy grows and the model breaks on slightly different inputs. Random crops and flips are the floor
    for classification; add colour jitter/RandAugment/MixUp as data allows. For segmentation and detection,
    apply geometric transforms jointly to images and targets (torchvision ``transforms.v2`` or
    albumentations).
    """

    code = "MLR013"
    name = "no-train-augmentations"
    checklist = "augmentations"
    severity = "warning"
    message = "Image training pipeline without random augmentation"
    suggestion = (
        "Add augmentations to the training transform only, e.g. v2.RandomResizedCrop(224), "
        "v2.RandomHorizontalFlip(), v2.ColorJitter(0.2, 0.2, 0.2)."
    )
    VALID = [
        (
            "from torchvision import transforms as T\ntrain_tf = T.Compose([T.RandomResizedCrop(224), "
            "T.RandomHorizontalFlip(), T.ToTensor()])\n"
        ),
        "import torch\nds = torch.utils.data.TensorDataset(torch.randn(8, 3), torch.zeros(8))\n",
    ]
    INVALID = [
        (
            "from torchvision import datasets, transforms\ntf = transforms.Compose([transforms.Resize(224), "
            "transforms.ToTensor()])\nds = datasets.CIFAR10('data', train=True, transform=tf)\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        transforms = transform_calls(project)
        if self._randoms(project) or self._custom_augmentation(project):
            return
        datasets = [c for c in project.calls if c.short in IMAGE_DATASETS]
        composes = [c for c in transforms if c.short == "Compose"]
        anchor = next(iter(composes or datasets), None)
        if anchor is not None:
            yield self.at(anchor.file, anchor.node, f"{anchor.code(60)}: no random augmentation for training")

    @staticmethod
    def _randoms(project: Project) -> list:  # type: ignore[type-arg]
        """Random augmentation calls: Random*/ColorJitter/..., timm create_transform(is_training=True), RandAugment."""
        out = [c for c in transform_calls(project) if is_random_transform(c.short)]
        for call in project.calls:
            if (
                call.short in {"create_transform", "transforms_imagenet_train"}
                and (call.kw_value("is_training") is True or call.short == "transforms_imagenet_train")
            ) or call.short in {
                "Mixup",
                "RandAugment",
                "AutoAugment",
                "TrivialAugmentWide",
                "rand_augment_transform",
            }:
                out.append(call)
        return out

    @staticmethod
    def _custom_augmentation(project: Project) -> bool:
        """Hand-written augmentation: random flips/crops in dataset code, MixUp/CutMix functions."""
        geometric = {
            "flip",
            "hflip",
            "vflip",
            "fliplr",
            "flipud",
            "rot90",
            "crop",
            "random_crop",
            "roll",
            "rotate",
        }
        for f in project.files:
            for func in f.functions:
                if any(k in func.name.lower() for k in ("mixup", "cutmix", "augment")):
                    return True
                shorts = {c.short for c in func.calls}
                randomness = any(
                    c.short in {"random", "rand", "randint", "uniform", "choice", "randn", "beta"}
                    for c in func.calls
                )
                if randomness and shorts & geometric:
                    return True
        return False

    def judge(self, project: Project) -> tuple[Status, str]:
        randoms = self._randoms(project)
        if randoms:
            return "pass", f"{randoms[0].code(60)} at {randoms[0].where()}"
        if self._custom_augmentation(project):
            return "pass", "hand-written random augmentation in dataset code"
        if project.external_data:
            return "unknown", project.external_data
        for call in project.calls:
            if re.search(r"transform|aug", call.short, re.I) and project.is_missing(call.file, call.raw):
                return "unknown", f"{call.code(50)} comes from a module that was not given"
        if project.datamodules and any(
            "transform" in " ".join(m.params) for dm in project.datamodules for m in dm.methods.values()
        ):
            return "unknown", "the DataModule receives its transforms from code/config not reviewed"
        return "not_applicable", "no image data pipeline in the reviewed code"
