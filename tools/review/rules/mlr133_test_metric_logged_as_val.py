"""MLR133: test metric logged as val."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule, renamed_string
from tools.review.rules.common import prefix_of

LM = "import lightning as L\nclass M(L.LightningModule):\n"


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
    VALID = [LM + "    def test_step(self, b, i):\n        self.log('test/acc', 1)\n"]
    INVALID = [LM + "    def test_step(self, b, i):\n        self.log('val/acc', 1)\n"]

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
