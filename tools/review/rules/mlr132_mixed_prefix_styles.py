"""MLR132: mixed prefix styles."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.common import prefix_of

LM = "import lightning as L\nclass M(L.LightningModule):\n"


class MixedPrefixStyles(Rule):
    """Metric keys mix the ``train/loss`` and ``train_loss`` styles.

    Both styles are fine, mixing them is not: loggers group ``train/`` keys into one section and leave
    ``train_`` keys at top level, dashboards and ``monitor=`` strings must guess which one a metric uses.
    """

    code = "MLR132"
    name = "mixed-prefix-styles"
    checklist = "metric-prefixes"
    severity = "warning"
    message = "Metric keys mix the 'stage/' and 'stage_' styles"
    suggestion = "Use one style for every key, e.g. train/loss, val/loss, val/acc."
    VALID = [
        LM
        + "    def training_step(self, b, i):\n        self.log('train/loss', 1)\n        self.log('train/acc', 1)\n"
    ]
    INVALID = [
        LM
        + "    def training_step(self, b, i):\n        self.log('train/loss', 1)\n        self.log('val_acc', 1)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        keys, _ = project.logged_keys
        styled = [(k, c, n, p[1]) for k, c, n in keys if (p := prefix_of(k)) is not None]
        slash = [s for s in styled if s[3] == "/"]
        under = [s for s in styled if s[3] == "_"]
        if not slash or not under:
            return
        minority = under if len(under) <= len(slash) else slash
        majority_style = "stage/" if minority is under else "stage_"
        for key, call, node, _sep in minority[:5]:
            yield self.at(
                call.file,
                node,
                f"{key!r} breaks the {majority_style} style used by the other keys",
                within=call.node,
            )
