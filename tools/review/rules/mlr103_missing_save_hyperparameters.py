"""MLR103: missing save hyperparameters."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule
from tools.review.rules.structure import LM, file_of, local_lms


class NoSaveHyperparameters(Rule):
    """A LightningModule's ``__init__`` takes arguments but never calls ``self.save_hyperparameters()``.

    Without it the checkpoint does not record how the model was built: ``Model.load_from_checkpoint(path)``
    fails or silently uses defaults, and the logger shows no hyperparameters for the run.
    """

    code = "MLR103"
    name = "missing-save-hyperparameters"
    checklist = "lightning-module"
    severity = "info"
    message = "__init__ takes hyperparameters but does not call self.save_hyperparameters()"
    suggestion = (
        "Call self.save_hyperparameters() right after super().__init__() (ignore=['net'] for modules)."
    )
    fixable = True
    VALID = [
        LM
        + "class M(L.LightningModule):\n    def __init__(self, lr=1e-3):\n        super().__init__()\n        self.save_hyperparameters()\n"
    ]
    INVALID = [
        LM
        + "class M(L.LightningModule):\n    def __init__(self, lr=1e-3):\n        super().__init__()\n        self.lr = lr\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in local_lms(project):
            init = cls.methods.get("__init__")
            if init is None or len([p for p in init.params if p != "self"]) == 0:
                continue
            if any(c.short == "save_hyperparameters" for c in init.calls):
                continue
            f = file_of(project, init)
            fix = None
            body = init.node.body
            if isinstance(body, cst.IndentedBlock):
                stmts = list(body.body)
                for i, stmt in enumerate(stmts[:-1]):
                    if "super(" in f.module.code_for_node(stmt) and "__init__" in f.module.code_for_node(
                        stmt
                    ):
                        fix = Fix(f.path, [Edit(stmts[i + 1], insert_before=["self.save_hyperparameters()"])])
                        break
            yield self.at(
                f, init.node.name, f"{cls.name}.__init__ does not call self.save_hyperparameters()", fix=fix
            )
