"""MLR112: eval loader shuffles."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule
from tools.review.rules.data_splits import DL, stage_of


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
            if call.kw_value("shuffle") is True and stage_of(call) == "eval":
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
