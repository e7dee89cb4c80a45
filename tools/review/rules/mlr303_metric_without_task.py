"""MLR303: metric without task."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule
from tools.review.rules.removed_apis import TASK_METRICS


class MetricWithoutTask(Rule):
    """A torchmetrics wrapper (``Accuracy()``, ``F1Score()``, ...) is built without ``task=``.

    Since torchmetrics 0.11 these classes require ``task="binary" | "multiclass" | "multilabel"`` and raise
    otherwise. Pass ``task`` (and ``num_classes``/``num_labels``), or use the explicit class such as
    ``MulticlassAccuracy(num_classes=...)``. Fixed automatically when ``num_classes``/``num_labels`` is given.
    """

    code = "MLR303"
    name = "metric-without-task"
    checklist = "metric-prefixes"
    severity = "error"
    message = "torchmetrics metric without task="
    suggestion = 'Pass task="multiclass", num_classes=N (or use MulticlassAccuracy(num_classes=N)).'
    fixable = True
    VALID = [
        "import torchmetrics\nacc = torchmetrics.Accuracy(task='multiclass', num_classes=10)\n",
        "from torchmetrics.classification import MulticlassAccuracy\nacc = MulticlassAccuracy(num_classes=10)\n",
    ]
    INVALID = [
        "import torchmetrics\nacc = torchmetrics.Accuracy(num_classes=10)\n",
        "from torchmetrics import F1Score\nf1 = F1Score()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.short not in TASK_METRICS or not call.resolved or call.has_star_kwargs:
                continue
            if not call.name.startswith("torchmetrics") or call.name.startswith("torchmetrics.functional"):
                continue
            if call.kw("task") is not None or call.positional(0) is not None:
                continue
            task = "multiclass" if call.kw("num_classes") else "multilabel" if call.kw("num_labels") else None
            fix = Fix(call.file.path, [Edit(call.node, add_kwargs=[("task", f'"{task}"')])]) if task else None
            yield self.at(
                call.file,
                call.node,
                f"{call.code(60)} has no task= (required since torchmetrics 0.11)",
                fix=fix,
            )
