"""Vocabulary shared by the rules: which names are schedulers, optimizers, transforms, losses, and small helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import libcst as cst

from tools.review.index import MISSING, Call, FileIndex, FuncInfo, literal
from tools.review.project import LIGHTNING, Project, YMap, raw_name

SCHEDULERS = {
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "CyclicLR",
    "ReduceLROnPlateau",
    "LambdaLR",
    "MultiplicativeLR",
    "LinearLR",
    "ConstantLR",
    "SequentialLR",
    "ChainedScheduler",
    "PolynomialLR",
    "get_cosine_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
    "get_scheduler",
    "create_scheduler",
    "create_scheduler_v2",
    "CosineLRScheduler",
    "LinearWarmupCosineAnnealingLR",
}
PER_STEP_SCHEDULERS = {
    "OneCycleLR",
    "CyclicLR",
    "get_cosine_schedule_with_warmup",
    "get_linear_schedule_with_warmup",
}
ADAPTIVE_OPTIMIZERS = {
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adamax",
    "NAdam",
    "RAdam",
    "Adadelta",
    "Lion",
    "LAMB",
}
OPTIMIZERS = ADAPTIVE_OPTIMIZERS | {"SGD", "ASGD", "LBFGS", "Rprop", "SparseAdam", "Adafactor", "Muon"}
CALLBACKS = ("ModelCheckpoint", "EarlyStopping", "LearningRateMonitor")
IMAGE_DATASETS = {
    "CIFAR10",
    "CIFAR100",
    "MNIST",
    "FashionMNIST",
    "KMNIST",
    "EMNIST",
    "SVHN",
    "STL10",
    "ImageFolder",
    "ImageNet",
    "Flowers102",
    "Food101",
    "OxfordIIITPet",
    "VOCSegmentation",
    "VOCDetection",
    "CocoDetection",
    "Cityscapes",
    "ADE20K",
    "Caltech101",
    "StanfordCars",
    "DTD",
    "EuroSAT",
    "GTSRB",
    "CelebA",
    "Places365",
    "LSUN",
    "SBDataset",
    "Kitti",
}
RANDOM_TRANSFORMS = {
    "ColorJitter",
    "TrivialAugmentWide",
    "AutoAugment",
    "RandAugment",
    "AugMix",
    "HorizontalFlip",
    "VerticalFlip",
    "ShiftScaleRotate",
    "CoarseDropout",
    "Cutout",
    "MixUp",
    "CutMix",
    "ElasticTransform",
    "GaussNoise",
    "Affine",
    "Perspective",
    "GaussianBlur",
    "OneOf",
    "SomeOf",
    "Rotate",
    "Flip",
    "Transpose",
    "HueSaturationValue",
    "CLAHE",
    "MotionBlur",
    "GridDistortion",
    "OpticalDistortion",
    "ChannelShuffle",
    "ToGray",
    "RGBShift",
    "ScaleJitter",
    "LargeScaleJitter",
    "SafeRotate",
}
GEOMETRIC_TRANSFORMS = {
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomResizedCrop",
    "RandomCrop",
    "RandomRotation",
    "RandomAffine",
    "RandomPerspective",
    "RandomIoUCrop",
    "RandomZoomOut",
    "ElasticTransform",
    "RandomShortestSize",
    "ScaleJitter",
}
TRANSFORM_ROOTS = (
    "torchvision.transforms",
    "albumentations",
    "kornia.augmentation",
    "monai.transforms",
    "A",
    "T",
)
EXPORT_CALLS = {"to_onnx", "dynamo_export", "to_torchscript"}
PREPROCESSORS = {
    "StandardScaler",
    "MinMaxScaler",
    "RobustScaler",
    "MaxAbsScaler",
    "Normalizer",
    "LabelEncoder",
    "OneHotEncoder",
    "OrdinalEncoder",
    "SimpleImputer",
    "KNNImputer",
    "IterativeImputer",
    "PCA",
    "TfidfVectorizer",
    "CountVectorizer",
    "QuantileTransformer",
    "PowerTransformer",
    "TargetEncoder",
    "KBinsDiscretizer",
}
SPLIT_CALLS = {"train_test_split", "random_split", "Subset", "split"}

_PREFIX_RX = re.compile(r"^(train|training|val|valid|validation|test|predict)([/_\-.])", re.IGNORECASE)


def prefix_of(key: str) -> tuple[str, str] | None:
    """(stage, separator) of a logged key, e.g. ('val', '/') for 'val/acc'; None when unprefixed."""
    m = _PREFIX_RX.match(key)
    if not m:
        return None
    stage = m.group(1).lower()
    stage = {"training": "train", "valid": "val", "validation": "val"}.get(stage, stage)
    return stage, m.group(2)


def is_random_transform(short: str) -> bool:
    return short.startswith("Random") or short in RANDOM_TRANSFORMS


def transform_calls(project: Project) -> list[Call]:
    """Calls that build image transforms (torchvision v1/v2, albumentations, kornia, monai)."""
    out = []
    for c in project.calls:
        root = c.name.split(".", 1)[0]
        if (c.resolved and c.name.startswith(TRANSFORM_ROOTS[:4])) or (
            (not c.resolved or root in {"A", "T", "transforms", "v2"})
            and (
                is_random_transform(c.short)
                or c.short in {"Compose", "ToTensor", "Normalize", "Resize", "ToTensorV2"}
            )
        ):
            out.append(c)
    return out


def resolve_number(project: Project, node: cst.BaseExpression | None, func: FuncInfo | None) -> Any:
    """The numeric value of ``node`` if it is a literal or a name whose only known value is a literal.

    Looks at the literal itself, parameter defaults of the enclosing function and of ``__init__``, class
    fields with literal defaults (``lr: float = 0.1`` / ``Field(default=0.1)``), assignments, and YAML keys.
    Returns MISSING when zero or several different values are possible: rules stay silent then.
    """
    value = literal(node)
    if value is not MISSING or node is None:
        return value
    name = raw_name(node)
    if not name:
        return MISSING
    last = name.rsplit(".", 1)[-1]
    candidates: set[Any] = set()
    if func is not None and "." not in name:
        d = func.param_default(last)
        if d is not MISSING and (isinstance(d, int | float | str | bool) or d is None):
            candidates.add(d)
    for f in project.files:
        for cls in f.classes.values():
            init = cls.methods.get("__init__")
            if init is not None and "." in name:
                d = init.param_default(last)
                if d is not MISSING and (isinstance(d, int | float | str | bool) or d is None):
                    candidates.add(d)
            fld = cls.fields.get(last)
            if fld is not None and fld.value is not None:
                v = literal(fld.value)
                if v is MISSING and isinstance(fld.value, cst.Call):
                    arg = next(
                        (a for a in fld.value.args if a.keyword and a.keyword.value == "default"), None
                    )
                    if arg is None and fld.value.args and fld.value.args[0].keyword is None:
                        arg = fld.value.args[0]
                    v = literal(arg.value) if arg is not None else MISSING
                if v is not MISSING and (isinstance(v, int | float | str | bool) or v is None):
                    candidates.add(v)
        for a in f.assignments:
            if a.target == name and (a.func is func or a.func is None):
                v = literal(a.value)
                if v is not MISSING and (isinstance(v, int | float | str | bool) or v is None):
                    candidates.add(v)
    for doc in project.yamls:
        for m in doc.mappings():
            if isinstance(m, YMap) and last in m and isinstance(m[last], int | float):
                candidates.add(m[last])
    numeric = {c for c in candidates if isinstance(c, int | float) and not isinstance(c, bool)}
    return numeric.pop() if len(numeric) == 1 and len(candidates) == 1 else MISSING


def lightning_import_for(ix: FileIndex, obj: str, submodule: str = "") -> tuple[str, tuple[str, str | None]]:
    """How to refer to a Lightning object in ``ix``: (expression, import to add (module, name)).

    Reuses a module alias the file already has (``pl.seed_everything``, ``L.pytorch.callbacks.X``) and
    otherwise imports from the same Lightning package the file uses.
    """
    package = "pytorch_lightning"
    for local, full in ix.aliases.items() if not submodule else ():
        if full == "pytorch_lightning":
            return f"{local}.{submodule + '.' if submodule else ''}{obj}", ("", None)
        if full in {"lightning.pytorch"}:
            return f"{local}.{submodule + '.' if submodule else ''}{obj}", ("", None)
        if full == "lightning":
            return (f"{local}.pytorch.{submodule}.{obj}" if submodule else f"{local}.{obj}"), ("", None)
    values = set(ix.aliases.values())
    if any(v.startswith("lightning") for v in values) or not any(
        v.startswith("pytorch_lightning") for v in values
    ):
        package = "lightning.pytorch"
    module = f"{package}.{submodule}" if submodule else package
    return obj, (module, obj)


def calls_in(project: Project, shorts: Iterable[str], roots: tuple[str, ...] = ()) -> list[Call]:
    return project.calls_named(tuple(shorts), roots)


def is_lightning_call(call: Call, short: str) -> bool:
    return call.is_(short, LIGHTNING)


def node_name(node: cst.CSTNode | None) -> str:
    return raw_name(node)
