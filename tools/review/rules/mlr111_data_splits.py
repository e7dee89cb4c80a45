"""MLR111-MLR115: DataModule splits and loaders."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.index import MISSING, Call
from tools.review.project import Project, raw_name
from tools.review.rules.base import Edit, Fix, Hit, Rule
from tools.review.rules.common import is_random_transform, transform_calls

DL = "from torch.utils.data import DataLoader, random_split\n"
_EVAL = re.compile(r"val|valid|test|eval|predict", re.I)
_TRAIN = re.compile(r"train", re.I)


def _stage_of(call: Call) -> str | None:
    """'train' / 'eval' for a loader by the method that builds it or the name it is bound to."""
    if call.func is not None:
        name = call.func.name
        if name == "train_dataloader":
            return "train"
        if name in {"val_dataloader", "test_dataloader", "predict_dataloader"}:
            return "eval"
    if call.target:
        last = call.target.rsplit(".", 1)[-1]
        if _TRAIN.search(last):
            return "train"
        if _EVAL.search(last):
            return "eval"
    return None


class UnseededRandomSplit(Rule):
    """``random_split`` without a seeded ``generator``.

    Each run (and each process in DDP) then draws a different train/validation split: validation scores are
    not comparable between runs and, across restarts, validation images leak into training.
    """

    code = "MLR111"
    name = "unseeded-random-split"
    checklist = "data-module"
    severity = "warning"
    message = "random_split without a seeded generator"
    suggestion = "Pass generator=torch.Generator().manual_seed(42) to random_split."
    fixable = True
    VALID = [
        "import torch\n"
        + DL
        + "a, b = random_split(ds, [0.9, 0.1], generator=torch.Generator().manual_seed(0))\n"
    ]
    INVALID = [DL + "train_ds, val_ds = random_split(ds, [0.9, 0.1])\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls_named("random_split"):
            if call.kw("generator") is not None or call.positional(2) is not None or call.has_star_kwargs:
                continue
            torch_alias = next((k for k, v in call.file.aliases.items() if v == "torch"), None)
            expr = f"{torch_alias or 'torch'}.Generator().manual_seed(42)"
            fix = Fix(
                call.file.path,
                [Edit(call.node, add_kwargs=[("generator", expr)])],
                [] if torch_alias else [("torch", None, None)],
            )
            yield self.at(call.file, call.node, f"{call.code(60)} draws a different split every run", fix=fix)


class EvalLoaderShuffles(Rule):
    """A validation/test DataLoader shuffles.

    Shuffling evaluation data buys nothing, makes per-batch logs and saved predictions non-reproducible, and
    with a distributed sampler can change which samples are seen when the data does not divide evenly.
    """

    code = "MLR112"
    name = "eval-loader-shuffles"
    checklist = "data-module"
    severity = "warning"
    message = "Validation/test DataLoader with shuffle=True"
    suggestion = "Use shuffle=False for validation, test and predict loaders."
    VALID = [
        DL
        + "class D:\n    def val_dataloader(self):\n        return DataLoader(self.val_ds, batch_size=64)\n"
    ]
    INVALID = [
        DL
        + "class D:\n    def val_dataloader(self):\n        return DataLoader(self.val_ds, batch_size=64, shuffle=True)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls_named("DataLoader"):
            if call.kw_value("shuffle") is True and _stage_of(call) == "eval":
                arg = call.kw("shuffle")
                yield self.at(
                    call.file,
                    arg or call.node,
                    f"{call.code(60)} shuffles evaluation data",
                    fix=Fix(
                        call.file.path,
                        [Edit(call.node, add_kwargs=[("shuffle", "False")], remove_kwargs=["shuffle"])],
                    ),
                )


class TrainLoaderNotShuffled(Rule):
    """The training DataLoader does not shuffle.

    Without shuffling every epoch sees the batches in the same order (often sorted by class when read from
    folders), which biases SGD and hurts generalisation. Pass ``shuffle=True`` or a sampler.
    """

    code = "MLR113"
    name = "train-loader-not-shuffled"
    checklist = "data-module"
    severity = "warning"
    message = "Training DataLoader without shuffle=True"
    suggestion = "Pass shuffle=True (or a sampler such as WeightedRandomSampler) to the training DataLoader."
    fixable = True
    VALID = [
        DL
        + "class D:\n    def train_dataloader(self):\n        return DataLoader(self.train_ds, batch_size=64, shuffle=True)\n"
    ]
    INVALID = [
        DL
        + "class D:\n    def train_dataloader(self):\n        return DataLoader(self.train_ds, batch_size=64)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls_named("DataLoader"):
            if _stage_of(call) != "train" or call.has_star_kwargs:
                continue
            if any(call.kw(k) is not None for k in ("sampler", "batch_sampler")):
                continue
            shuffle = call.kw_value("shuffle")
            if shuffle is True or (call.kw("shuffle") is not None and shuffle is MISSING):
                continue
            first = call.positional(0)
            dataset = call.file.code(first) if first is not None else ""
            if re.search(r"iter|stream|webdataset|wds", dataset, re.I):
                continue
            fix = Fix(
                call.file.path, [Edit(call.node, add_kwargs=[("shuffle", "True")], remove_kwargs=["shuffle"])]
            )
            yield self.at(
                call.file, call.node, f"{call.code(60)} does not shuffle the training data", fix=fix
            )


class AugmentationInEvalSplit(Rule):
    """Random training augmentations reach the validation/test split.

    When validation data goes through random crops/flips (a shared dataset object split by ``random_split``,
    a training transform passed to the validation dataset, or Random* ops in the eval transform), the
    validation metric is noisy, pessimistic and not comparable between epochs.
    """

    code = "MLR114"
    name = "augmentation-in-eval-split"
    checklist = "augmentations"
    severity = "warning"
    message = "Random augmentations are applied to validation/test data"
    suggestion = "Give validation/test their own deterministic transform (resize, center crop, normalise)."
    VALID = [
        "from torchvision import transforms as T\ntrain_tf = T.Compose([T.RandomHorizontalFlip()])\n"
        "val_tf = T.Compose([T.Resize(256), T.CenterCrop(224)])\nval_ds = ImageFolder('val', transform=val_tf)\n"
    ]
    INVALID = [
        "from torchvision import transforms as T\ntrain_tf = T.Compose([T.RandomHorizontalFlip()])\n"
        "val_ds = ImageFolder('val', transform=train_tf)\n",
        "from torchvision import transforms as T\nval_tf = T.Compose([T.RandomResizedCrop(224), T.ToTensor()])\n",
        "from torchvision import transforms as T\nfrom torch.utils.data import random_split\n"
        "ds = ImageFolder('data', transform=T.Compose([T.RandomHorizontalFlip(), T.ToTensor()]))\n"
        "train_ds, val_ds = random_split(ds, [0.8, 0.2])\n",
    ]

    @staticmethod
    def _random_spans(project: Project) -> dict[str, list[tuple[int, int, int, int]]]:
        """Per file, the source ranges of random transform calls (for containment tests by position)."""
        spans: dict[str, list[tuple[int, int, int, int]]] = {}
        for c in transform_calls(project):
            if is_random_transform(c.short):
                spans.setdefault(c.file.path, []).append(c.file.range(c.node))
        return spans

    @staticmethod
    def _contains_random(
        call: Call, node: cst.CSTNode, spans: dict[str, list[tuple[int, int, int, int]]]
    ) -> bool:
        outer = call.file.range(node)
        return any(
            (outer[0], outer[1]) < (s[0], s[1]) and (s[2], s[3]) <= (outer[2], outer[3])
            for s in spans.get(call.file.path, ())
        )

    def _random_names(
        self, project: Project, spans: dict[str, list[tuple[int, int, int, int]]]
    ) -> dict[str, Call]:
        """Names bound to a transform pipeline that contains random ops -> the Compose call."""
        return {
            call.target: call
            for call in transform_calls(project)
            if call.short == "Compose" and call.target and self._contains_random(call, call.node, spans)
        }

    def check(self, project: Project) -> Iterable[Hit]:
        spans = self._random_spans(project)
        randoms = self._random_names(project, spans)
        for name, call in randoms.items():
            if _EVAL.search(name.rsplit(".", 1)[-1]) and not _TRAIN.search(name):
                yield self.at(
                    call.file, call.node, f"{name} contains random augmentations but is used for evaluation"
                )
        random_datasets: dict[str, Call] = {}
        for call in project.calls:
            arg = call.kw("transform") or call.kw("transforms")
            if arg is None or not call.short[:1].isupper():
                continue
            tname = raw_name(arg.value)
            inline_random = isinstance(arg.value, cst.Call) and self._contains_random(call, arg.value, spans)
            is_random = inline_random or tname in randoms or bool(_TRAIN.search(tname.rsplit(".", 1)[-1]))
            stage = _stage_of(call)
            if is_random and stage == "eval":
                yield self.at(
                    call.file,
                    arg,
                    f"{call.code(60)}: the evaluation data set gets the training transform {tname or 'with random ops'}",
                )
            if is_random and call.target and stage is None:
                random_datasets[call.target] = call
        for call in project.calls_named("random_split"):
            first = raw_name(call.positional(0))
            if first in random_datasets:
                yield self.at(
                    call.file,
                    call.node,
                    f"{call.code(60)} splits a data set with random augmentations: the validation part is augmented too",
                )


class DataLoadingInModule(Rule):
    """The LightningModule builds datasets/DataLoaders itself.

    Data code inside the model couples the two: the model cannot be reused with other data, and splits,
    transforms and loaders cannot be tested or shared. Move them into a LightningDataModule.
    """

    code = "MLR115"
    name = "data-loading-in-lightning-module"
    checklist = "data-module"
    severity = "warning"
    message = "Data loading inside the LightningModule"
    suggestion = "Move the datasets and *_dataloader methods into a LightningDataModule and pass it to trainer.fit(datamodule=...)."
    VALID = [
        "import lightning as L\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n        return self(b)\n"
    ]
    INVALID = [
        "import lightning as L\nfrom torch.utils.data import DataLoader\nclass M(L.LightningModule):\n"
        "    def train_dataloader(self):\n        return DataLoader(self.ds, shuffle=True)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            for name in ("train_dataloader", "val_dataloader", "test_dataloader", "prepare_data"):
                method = cls.methods.get(name)
                if method is not None:
                    f = project.class_file(cls)
                    yield self.at(
                        f, method.node.name, f"{cls.name}.{name} loads data inside the LightningModule"
                    )
                    break
