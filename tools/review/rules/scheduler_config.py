"""Helpers shared by the scheduler config rules: schedulers configured so that Lightning steps them correctly."""

from __future__ import annotations

import libcst as cst

from tools.review.index import FuncInfo
from tools.review.project import Project

LM = "import torch\nimport lightning as L\nclass M(L.LightningModule):\n    def configure_optimizers(self):\n"


def returned_dict_keys(func: FuncInfo, project: Project) -> dict[str, cst.BaseExpression]:
    """Literal string keys (any nesting) of dicts written in ``func``: 'interval', 'monitor', ..."""
    keys: dict[str, cst.BaseExpression] = dict(func.dict_items)
    for call in func.calls:
        if call.short == "dict":
            for a in call.node.args:
                if a.keyword is not None:
                    keys[a.keyword.value] = a.value
    return keys
