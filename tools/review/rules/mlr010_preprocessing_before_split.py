"""MLR010: preprocessing is fitted on the training split only."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.index import Call
from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Hit, PrimaryRule
from tools.review.rules.common import IMAGE_DATASETS, PREPROCESSORS, SPLIT_CALLS

_PREPROC_NAME = re.compile(r"scaler|encoder|imputer|normali[sz]er|pca|vectori[sz]er", re.I)
_STATS = {"mean", "std", "var", "min", "max", "nanmean", "nanstd"}
_TRAIN = re.compile(r"train", re.I)


def split_calls(project: Project) -> list[Call]:
    return [
        c
        for c in project.calls
        if c.short in SPLIT_CALLS
        and (c.short != "split" or any(k in c.receiver for k in ("Fold", "fold", "cv", "splitter")))
    ]


def _preprocessor_fit(call: Call, project: Project) -> bool:
    if call.short not in {"fit", "fit_transform"}:
        return False
    recv = call.receiver
    if recv.rsplit(".", 1)[-1] in PREPROCESSORS or _PREPROC_NAME.search(recv):
        return True
    values = project.assigned_values(recv, call.func)
    return any(call.file.code(v).split("(", 1)[0].rsplit(".", 1)[-1] in PREPROCESSORS for v in values)


class PreprocessingBeforeSplit(PrimaryRule):
    """A scaler/encoder/imputer or normalisation statistics are fitted on all data before the split.

    Fitting preprocessing (``StandardScaler().fit(X)``, ``X.mean()`` for normalisation) on the whole data
    set lets validation/test statistics leak into training: scores look better than they will be in
    production. Split first, fit on the training split only, then transform the others.
    """

    code = "MLR010"
    name = "preprocessing-before-split"
    checklist = "data-leakage"
    severity = "error"
    message = "Preprocessing is fitted on all data before the train/validation split"
    suggestion = "Split first, then fit the scaler/encoder/statistics on the training split only and apply them to the others."
    VALID = [
        (
            "from sklearn.model_selection import train_test_split\nfrom sklearn.preprocessing import StandardScaler\n"
            "X_train, X_val = train_test_split(X, test_size=0.2)\nscaler = StandardScaler().fit(X_train)\n"
        ),
    ]
    INVALID = [
        (
            "from sklearn.model_selection import train_test_split\nfrom sklearn.preprocessing import StandardScaler\n"
            "scaler = StandardScaler()\nX = scaler.fit_transform(X)\nX_train, X_val = train_test_split(X, test_size=0.2)\n"
        ),
        (
            "import torch\nmean = images.mean(dim=(0, 2, 3))\nstd = images.std(dim=(0, 2, 3))\n"
            "train, val = torch.utils.data.random_split(ds, [0.8, 0.2])\n"
        ),
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        splits = split_calls(project)
        for call in project.calls:
            later = [
                s
                for s in splits
                if s.file is call.file
                and s.func is call.func
                and s.file.line(s.node) > call.file.line(call.node)
            ]
            if not later:
                continue
            first = call.positional(0)
            data = call.file.code(first) if first is not None else call.receiver
            if _preprocessor_fit(call, project):
                if _TRAIN.search(data):
                    continue
                yield self.at(
                    call.file,
                    call.node,
                    f"{call.code(60)} is fitted before {later[0].code(40)} splits the data",
                )
            elif (
                call.short in _STATS
                and call.target
                and re.search(r"mean|std|mu|sigma|stat", call.target, re.I)
            ):
                if _TRAIN.search(call.raw):
                    continue
                yield self.at(
                    call.file,
                    call.node,
                    f"Normalisation statistic {call.target} = {call.code(50)} is computed before the split",
                )

    def judge(self, project: Project) -> tuple[Status, str]:
        splits = split_calls(project)
        if splits:
            return "pass", f"{splits[0].code(60)} at {splits[0].where()}; nothing fitted on data before it"
        predefined = [
            c for c in project.calls if c.short in IMAGE_DATASETS and (c.kw("train") or c.kw("split"))
        ]
        if predefined:
            return "pass", f"predefined splits: {predefined[0].code(60)} at {predefined[0].where()}"
        if project.datamodules:
            return "unknown", "the DataModule's splits come from files/config not visible in the code"
        return "not_applicable", "no data splitting in the reviewed code"
