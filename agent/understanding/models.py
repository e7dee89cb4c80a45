"""Backbone and architecture names as users write them: "ResNet-50", "resnet50", "efficentnet b0", "Faster R-CNN".

Names are compared in a squashed form (lower case, separators removed: "faster r-cnn" -> "fasterrcnn"), first
exactly against aliases, then with a small edit distance (rapidfuzz OSA) for misspellings. A fuzzy match must keep
the digits of the name exactly, so "resnet18" is never read as "resnet50", and short keys (under 6 letters) are
never fuzzy-matched ("reset" is not "resnet"). The vocabulary is the knowledge base (every backbone, every
architecture id and variant) plus the names practitioners use that the knowledge base does not list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

Kind = Literal["backbone", "architecture"]


@dataclass(frozen=True)
class ModelRef:
    """A model the user named: canonical name, what kind of thing it is, and where it lives in the knowledge base.

    ``knowledge_id`` is the backbone name (``backbones.yaml``) or architecture id (``task_*.yaml``) the
    recommender and generator know, or None for a name outside the knowledge base. ``task`` is the task the
    name implies (YOLO -> detection), None for backbones. ``fuzzy`` says whether a misspelling was corrected.
    """

    name: str
    kind: Kind
    knowledge_id: str | None
    task: str | None
    fuzzy: bool = False


# canonical -> (kind, knowledge id, task, extra written forms). Knowledge-base names are added on load.
_ARCHITECTURES: dict[str, tuple[str | None, str | None, tuple[str, ...]]] = {
    "yolo": ("yolo_ultralytics", "detection", ("yolo", "ultralytics")),
    "rt_detr": ("rt_detr", "detection", ("rt-detr", "rtdetr", "rt detr")),
    "d_fine": ("rt_detr", "detection", ("d-fine", "dfine")),
    "detr": (None, "detection", ("detr", "deformable detr")),
    "dino_detr": ("dino_detr", "detection", ("dino detr", "co-detr", "codetr", "dino-detr")),
    "faster_rcnn": ("faster_rcnn", "detection", ("faster r-cnn", "faster rcnn", "fasterrcnn", "frcnn")),
    "retinanet": ("retinanet", "detection", ("retinanet", "retina net")),
    "fcos": ("retinanet", "detection", ("fcos",)),
    "ssdlite": ("ssdlite", "detection", ("ssdlite", "ssd lite", "ssdlite320")),
    "efficientdet": (None, "detection", ("efficientdet",)),
    "mask_rcnn": ("mask_rcnn", "instance_segmentation", ("mask r-cnn", "mask rcnn", "maskrcnn")),
    "rtmdet": ("rtmdet_ins", "instance_segmentation", ("rtmdet", "rtmdet-ins")),
    "mask2former": ("mask2former", None, ("mask2former", "mask 2 former")),
    "sam": ("sam_prompted", "instance_segmentation", ("sam2", "sam 2", "segment anything")),
    "deeplabv3": ("deeplabv3plus", "segmentation", ("deeplab", "deeplabv3", "deeplab v3", "deeplab-v3")),
    "deeplabv3plus": ("deeplabv3plus", "segmentation", ("deeplabv3+", "deeplabv3plus", "deeplab v3+")),
    "unet": ("unet", "segmentation", ("unet", "u-net", "u net", "unet++")),
    "lraspp": ("lraspp", "segmentation", ("lraspp", "lr-aspp")),
    "segformer": ("segformer", "segmentation", ("segformer",)),
    "pspnet": (None, "segmentation", ("pspnet",)),
    "fcn": (None, "segmentation", ("fcn resnet",)),
    "keypoint_rcnn": ("keypoint_rcnn", "keypoints", ("keypoint r-cnn", "keypoint rcnn", "keypointrcnn")),
    "hrnet": ("heatmap_topdown", "keypoints", ("hrnet", "hr-net")),
    "simplebaseline": ("heatmap_topdown", "keypoints", ("simplebaseline", "simple baseline")),
    "rtmpose": ("rtmpose", "keypoints", ("rtmpose",)),
    "vitpose": ("vitpose", "keypoints", ("vitpose", "vit-pose")),
    "openpose": (None, "keypoints", ("openpose",)),
    "patchcore": (None, "anomaly_detection", ("patchcore",)),
    "padim": (None, "anomaly_detection", ("padim",)),
}
# torchvision backbones beyond backbones.yaml, and family names a user says without a size.
_EXTRA_BACKBONES = [
    "resnet101",
    "resnet152",
    "resnext101_32x8d",
    "wide_resnet50_2",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "efficientnet_v2_m",
    "efficientnet_v2_l",
    "convnext_base",
    "convnext_large",
    "vit_b_32",
    "vit_l_16",
    "vit_l_32",
    "vit_h_14",
    "swin_s",
    "swin_b",
    "swin_v2_s",
    "swin_v2_b",
    "mobilenet_v2",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "shufflenet_v2_x1_0",
    "squeezenet1_0",
    "inception_v3",
    "googlenet",
    "vgg11",
    "vgg16",
    "vgg19",
    "alexnet",
    "regnet_y_3_2gf",
    "regnet_x_400mf",
    "dinov2",
    "clip",
]
_FAMILIES = ("resnet", "resnext", "efficientnet", "convnext", "vit", "swin", "mobilenet", "regnet", "densenet",
             "vgg", "maxvit", "shufflenet")  # fmt: skip
_BACKBONE_ALIASES = {
    "mobilenetv3": "mobilenet_v3_large",
    "mobilenet_v3": "mobilenet_v3_large",
    "mobilenetv3large": "mobilenet_v3_large",
    "mobilenetv3small": "mobilenet_v3_small",
    "effnetb0": "efficientnet_b0",
    "effnetb3": "efficientnet_b3",
    "efficientnetv2": "efficientnet_v2_s",
    "vitbase": "vit_b_16",
    "vitb": "vit_b_16",
    "vitbase16": "vit_b_16",
    "vitbpatch16": "vit_b_16",
    "swintiny": "swin_t",
    "swinv2tiny": "swin_v2_t",
    "maxvittiny": "maxvit_t",
    "resnext50": "resnext50_32x4d",
    "convnextt": "convnext_tiny",
    "convnexts": "convnext_small",
}
# Real words that sit one edit from a model name.
_NOT_MODELS = frozenset({"convnet", "convnets", "unit", "units", "resent", "dinos", "regret"})
_YOLO = re.compile(r"^yolo(?:v?(\d{1,2}))?([nsmlx])?(seg|pose|cls|obb)?$")
_JOINERS = re.compile(r"^[ \-_/]?$|^ - $")
_TOKEN = re.compile(r"[a-z0-9]+\+*")
# Tokens that can follow a model's first word as part of its name ("b0", "v3", "tiny", "50").
_SIZE_TOKEN = re.compile(r"^(?:[a-z]?\d+[a-z]*|v\d+|tiny|small|base|large|huge|nano|lite|plus|[a-z])$")


def squash(name: str) -> str:
    """The comparison key of a model name: lower case, no separators ("Faster R-CNN" -> "fasterrcnn")."""
    return re.sub(r"[^a-z0-9+]", "", name.lower())


@dataclass(frozen=True)
class _Vocabulary:
    exact: dict[str, ModelRef]
    by_prefix: dict[str, list[str]]


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    from knowledge import load_knowledge

    base = load_knowledge()
    exact: dict[str, ModelRef] = {}
    for name in list(base.backbones) + _EXTRA_BACKBONES:
        kid = name if name in base.backbones else None
        exact.setdefault(squash(name), ModelRef(name, "backbone", kid, None))
    for family in _FAMILIES:
        exact.setdefault(family, ModelRef(family, "backbone", None, None))
    for alias, name in _BACKBONE_ALIASES.items():
        exact[squash(alias)] = ModelRef(name, "backbone", name if name in base.backbones else None, None)
    for canonical, (kid, task, forms) in _ARCHITECTURES.items():
        for form in (canonical, *forms):
            exact[squash(form)] = ModelRef(canonical, "architecture", kid, task)
    for task_kb in base.tasks.values():
        for arch in task_kb.architectures:
            # Ids of three letters or fewer ("bit" for the change-detection transformer) are ordinary words and
            # units ("16-bit"); such a model is only recognised through its curated forms above.
            if len(squash(arch.id)) > 3:
                exact.setdefault(squash(arch.id), ModelRef(arch.id, "architecture", arch.id, task_kb.id))
            for variant in arch.variants:
                variant_ref = ModelRef(variant.name, "architecture", arch.id, task_kb.id)
                if len(squash(variant.name)) > 3:
                    exact.setdefault(squash(variant.name), variant_ref)
    by_prefix: dict[str, list[str]] = {}
    for key in exact:
        if len(key) >= 6:
            by_prefix.setdefault(key[:2], []).append(key)
    return _Vocabulary(exact, by_prefix)


def _yolo(key: str) -> ModelRef | None:
    match = _YOLO.match(key)
    if not match:
        return None
    version, size, head = match.groups()
    name = "yolo"
    if version:
        name += version if int(version) >= 11 else f"v{version}"
    name += size or ""
    kid: str | None = "yolo_ultralytics"
    task = "detection"
    if head == "seg":
        kid, task, name = "yolo_seg_ultralytics", "instance_segmentation", name + "-seg"
    elif head == "pose":
        kid, task, name = "yolo_pose_ultralytics", "keypoints", name + "-pose"
    elif head == "cls":
        kid, task, name = None, "classification", name + "-cls"
    elif head == "obb":
        name += "-obb"
    return ModelRef(name, "architecture", kid, task)


def _digits(key: str) -> str:
    return "".join(ch for ch in key if ch.isdigit())


@lru_cache(maxsize=8192)
def lookup(key: str, *, allow_fuzzy: bool = True) -> ModelRef | None:
    """The model a squashed key names, exactly or (for keys of 6+ characters) within one or two edits."""
    vocab = _vocabulary()
    if key in _NOT_MODELS:
        return None
    ref = vocab.exact.get(key) or _yolo(key)
    if ref is None and key.endswith("s") and len(key) > 4:
        ref = vocab.exact.get(key[:-1])  # "resnets", "unets"
    if ref is not None or not allow_fuzzy or len(key) < 6 or not any(ch.isalpha() for ch in key):
        return ref
    candidates = [cand for cand in vocab.by_prefix.get(key[:2], []) if _digits(cand) == _digits(key)]
    if not candidates:
        return None
    max_edits = 2 if len(key) >= 10 else 1
    hit = process.extractOne(key, candidates, scorer=OSA.distance, score_cutoff=max_edits)
    if hit is None:
        return None
    found = vocab.exact[str(hit[0])]
    return ModelRef(found.name, found.kind, found.knowledge_id, found.task, fuzzy=True)


def find_models(text: str, skip_words: frozenset[str] = frozenset()) -> list[tuple[int, int, ModelRef]]:
    """``(start, end, ref)`` for every model named in a lower-cased text, longest name first at each place.

    Up to three tokens joined by a space, hyphen, underscore or slash form one name ("mask r-cnn",
    "vit b/16", "mobilenet v3 small"). ``skip_words`` are ordinary words never fuzzy-matched.
    """
    matches = list(_TOKEN.finditer(text))
    words = [match.group() for match in matches]
    joined = [
        _JOINERS.match(text[matches[pos].end() : matches[pos + 1].start()]) is not None
        for pos in range(len(matches) - 1)
    ]
    sizes = [bool(_SIZE_TOKEN.match(word)) for word in words]
    found: list[tuple[int, int, ModelRef]] = []
    index = 0
    while index < len(words):
        ref: ModelRef | None = None
        last = index
        for width in (3, 2, 1):
            last = index + width - 1
            if last >= len(words) or not all(joined[index:last]):
                continue
            key = "".join(words[index : last + 1])
            fuzzy_ok = words[index] not in skip_words and all(sizes[index + 1 : last + 1])
            ref = lookup(key.rstrip("+"), allow_fuzzy=fuzzy_ok)
            if ref is not None:
                if ref.name == "deeplabv3" and (
                    key.endswith("+") or text[matches[last].end() : matches[last].end() + 5] == " plus"
                ):
                    ref = lookup("deeplabv3plus", allow_fuzzy=False) or ref
                break
        if ref is None:
            index += 1
            continue
        found.append((matches[index].start(), matches[last].end(), ref))
        index = last + 1
    return found
