"""MLR132-MLR133: consistent metric key styles and the right stage in the key."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule, renamed_string
from tools.review.rules.common import prefix_of

_LM = "import lightning as L\nclass M(L.LightningModule):\n"


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
        _LM
        + "    def training_step(self, b, i):\n        self.log('train/loss', 1)\n        self.log('train/acc', 1)\n"
    ]
    INVALID = [
        _LM
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


class TestMetricLoggedAsVal(Rule):
    """A test-stage hook logs metrics under a ``val`` key.

    ``test_step`` logging ``val/acc`` overwrites/merges with validation curves, so the test result looks like
    one more validation point and checkpoint/early-stopping monitors may react to test data.
    """

    code = "MLR133"
    name = "test-metric-logged-as-val"
    checklist = "metric-prefixes"
    severity = "error"
    message = "Test metrics are logged under a val key"
    suggestion = "Log test metrics under test/ (test/acc, test/loss)."
    fixable = True
    VALID = [_LM + "    def test_step(self, b, i):\n        self.log('test/acc', 1)\n"]
    INVALID = [_LM + "    def test_step(self, b, i):\n        self.log('val/acc', 1)\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        keys, _ = project.logged_keys
        for key, call, node in keys:
            if call.func is None or not call.func.name.startswith(("test_step", "on_test_")):
                continue
            prefix = prefix_of(key)
            if prefix is None or prefix[0] != "val":
                continue
            fix = None
            if isinstance(node, cst.SimpleString):
                sep_index = len(key) - len(key.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                new_key = "test" + key[sep_index:]
                fix = Fix(
                    call.file.path,
                    [
                        Edit(
                            node,
                            replace=renamed_string(node, new_key),
                        )
                    ],
                )
            yield self.at(
                call.file,
                node,
                f"{call.func.name} logs {key!r} as a validation metric",
                fix=fix,
                within=call.node,
            )
