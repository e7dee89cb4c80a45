"""MLR114: augmentation in eval split."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.index import Call
from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.rules.common import is_random_transform, transform_calls
from tools.review.rules.data_splits import EVAL, TRAIN, stage_of


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
        """Names bound to a transform pipeline that contains random ops -> the call that built it.

        Both ``tf = Compose([RandomCrop(...), ...])`` and ``tf = build_transform(...)`` where the project's
        ``build_transform`` contains random ops count.
        """
        names = {
            call.target: call
            for call in transform_calls(project)
            if call.short == "Compose" and call.target and self._contains_random(call, call.node, spans)
        }
        random_ids = {id(c) for c in transform_calls(project) if is_random_transform(c.short)}
        builders = {
            fn.name for f in project.files for fn in f.functions if any(id(c) in random_ids for c in fn.calls)
        }
        for call in project.calls:
            if call.target and call.short in builders and call.target not in names:
                names[call.target] = call
        return names

    def check(self, project: Project) -> Iterable[Hit]:
        spans = self._random_spans(project)
        randoms = self._random_names(project, spans)
        for name, call in randoms.items():
            if EVAL.search(name.rsplit(".", 1)[-1]) and not TRAIN.search(name):
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
            is_random = inline_random or tname in randoms or bool(TRAIN.search(tname.rsplit(".", 1)[-1]))
            stage = stage_of(call)
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
