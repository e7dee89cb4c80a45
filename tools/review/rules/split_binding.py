"""Whether an expression is (a loader over) the test split, by following bindings (issue 11, class 7).

Names lie: ``val_loader = DataLoader(test_ds)`` or ``eval_loader = DataLoader(CIFAR10(root, train=False))``.
This follows a name to what it was assigned in the same function or at module level, through ``DataLoader``
and ``Subset`` wrappers, to the dataset constructor, and reads the split from its arguments: ``split="test"``,
``image_set="test"``, a torchvision-style ``train=False`` (those data sets have no validation split: it is the
test set), or a path/file literal naming a ``test`` folder or file.
"""

from __future__ import annotations

import re

import libcst as cst

from tools.review.index import FileIndex, FuncInfo, literal
from tools.review.project import Project, raw_name

_WRAPPERS = {"DataLoader", "Subset"}
_TEST_PATH = re.compile(r"(^|[/_\\-])test([/_.\-]|$)", re.I)


def test_split_source(
    project: Project, file: FileIndex, node: cst.BaseExpression | None, func: FuncInfo | None, depth: int = 4
) -> str | None:
    """The dataset call that makes ``node`` the test split, as code, or None."""
    if node is None or depth <= 0:
        return None
    if isinstance(node, cst.Name):
        for a in file.assignments:
            if a.target == node.value and (a.func is func or a.func is None):
                found = test_split_source(project, file, a.value, func, depth - 1)
                if found:
                    return found
        return None
    if not isinstance(node, cst.Call):
        return None
    short = raw_name(node.func).rsplit(".", 1)[-1]
    if short in _WRAPPERS:
        first = node.args[0].value if node.args and node.args[0].keyword is None else None
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "dataset":
                first = arg.value
        return test_split_source(project, file, first, func, depth - 1)
    for arg in node.args:
        key = arg.keyword.value if arg.keyword is not None else None
        value = literal(arg.value)
        if key in {"split", "image_set", "subset"} and isinstance(value, str) and value.lower() == "test":
            return file.code(node, 60)
        if key == "train" and value is False:
            return file.code(node, 60)
        if isinstance(value, str) and _TEST_PATH.search(value):
            return file.code(node, 60)
    return None
