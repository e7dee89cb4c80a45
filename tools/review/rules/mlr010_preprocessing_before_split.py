"""MLR010: preprocessing is fitted on the training split only."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.index import Call
from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Hit, PrimaryRule
from tools.review.rules.common import PREPROCESSORS, SPLIT_CALLS

_PREPROC_NAME = re.compile(r"scaler|encoder|imputer|normali[sz]er|pca|vectori[sz]er", re.I)
_STATS = {"mean", "std", "var", "min", "max", "nanmean", "nanstd"}
TRAIN = re.compile(r"train", re.I)


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


def _assigned(call: Call) -> str:
    """The names a statement assigns (``mean, std``)."""
    stmt = call.stmt
    if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
        return " ".join(call.file.code(t.target) for t in stmt.body[0].targets)
    return "value"


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
        (
            "from torch.utils.data import DataLoader, random_split\n"
            "mean, std = compute_mean_std(DataLoader(ds, batch_size=256))\n"
            "train_ds, val_ds = random_split(ds, [0.8, 0.2])\n"
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
                if TRAIN.search(data):
                    continue
                yield self.at(
                    call.file,
                    call.node,
                    f"{call.code(60)} is fitted before {later[0].code(40)} splits the data",
                )
            elif self._stats_call(project, call):
                if TRAIN.search(call.raw):
                    continue
                yield self.at(
                    call.file,
                    call.node,
                    f"Normalisation statistic {call.target or _assigned(call)} = {call.code(50)} is computed over "
                    f"the whole data set, before {later[0].code(40)} splits it",
                )

    @staticmethod
    def _stats_call(project: Project, call: Call) -> bool:
        """``mean = x.mean()`` or ``mean, std = channel_stats(items)``: normalisation statistics over data."""
        stmt = call.stmt
        lhs = ""
        if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
            lhs = " ".join(call.file.code(t.target) for t in stmt.body[0].targets)
        if not re.search(r"mean|std|mu\b|sigma|stat", lhs, re.I):
            return False
        if TRAIN.search(call.code(200)):
            return False
        if call.short in _STATS:
            return True
        if re.search(r"stat|mean|std|norm", call.short, re.I) is None:
            return False
        helper = next((fn for file in project.files for fn in file.functions if fn.name == call.short), None)
        if helper is None:
            # ``mean, std = compute_mean_std(loader)`` with the helper in a file not given: its name and the
            # names it assigns say what it computes.
            return bool(re.search(r"mean|std", lhs, re.I))
        return any(c.short in _STATS for c in helper.calls)

    def judge(self, project: Project) -> tuple[Status, str]:
        splits = split_calls(project)
        if splits:
            return "pass", f"{splits[0].code(60)} at {splits[0].where()}; nothing fitted on data before it"
        missing = [
            c
            for c in project.calls
            if c.short[:1].isupper() and project.is_missing(c.file, c.raw) and re.search("Data|Set", c.short)
        ]
        if missing:
            return "unknown", f"{missing[0].code(50)} comes from a module that was not given"
        if project.external_data and not project.datamodules:
            return "unknown", project.external_data
        sources = evaluation_sources(project)
        if sources:
            return "pass", f"separate evaluation data: {sources[0]}"
        from_config = any(c.short == "instantiate" and "data" in c.code().lower() for c in project.calls)
        if from_config and project.hydra_group("data")[0] == "absent":
            return "unknown", "the data comes from a Hydra config that was not given"
        return "not_applicable", "no evaluation split in the reviewed code"


def evaluation_sources(project: Project) -> list[str]:
    """Evidence of separate validation/test data: split=/train= datasets, val loaders, val folders/lists."""
    out: list[str] = []
    for call in project.calls:
        split = call.kw_value("split")
        if (isinstance(split, str) and split.lower() in {"val", "valid", "validation", "test", "eval"}) or (
            call.kw_value("train") is False and call.short[:1].isupper()
        ):
            out.append(f"{call.code(60)} at {call.where()}")
    for cls in project.datamodules + project.lightning_modules:
        if "val_dataloader" in cls.methods:
            out.append(f"{cls.name}.val_dataloader at {project.class_file(cls).path}")
    for call in project.fit_calls:
        if call.kw("val_dataloaders") is not None or call.positional(2) is not None:
            out.append(f"{call.code(60)} at {call.where()}")
    for call in project.calls:
        first = call.positional(0)
        if call.short[:1].isupper() and first is not None:
            text = call.file.code(first, 200)
            if re.search(r"[/_'\"](val|valid|validation|test)[/'\"._]", text):
                out.append(f"{call.code(60)} at {call.where()}")
    for call in project.calls_named("DataLoader"):
        if call.target and re.search(r"val|valid|test|eval", call.target, re.I):
            out.append(f"{call.code(60)} at {call.where()}")
    for f in project.files:
        for _node, value in f.strings:
            if re.fullmatch(
                r"(.*/)?(val|valid|validation|test)(/|\.csv|\.txt|\.json)", value
            ) or re.fullmatch(r".*/(val|valid|validation|test)", value):
                out.append(f"{value!r} in {f.path}")
                break
    return out
