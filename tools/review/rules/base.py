"""What a rule is: a code, a name, the checklist item it judges, a message, examples that are its tests and docs.

A rule reports :class:`Hit` objects (a place, optionally a message and a :class:`Fix`); the engine turns them into
contract findings, applies suppressions and selections, and renders them. A *primary* rule (one per checklist
item, MLR001..MLR014) also judges its item when nothing fails: pass with evidence, unknown, or not applicable.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from tools.review.index import FileIndex
from tools.review.models import Severity, Status
from tools.review.project import Project

Example = str | dict[str, str]


@dataclass
class Edit:
    """One change to one original node. Edits to the same node are merged by the fix applier."""

    node: cst.CSTNode
    add_kwargs: list[tuple[str, str]] = field(default_factory=list)
    remove_kwargs: list[str] = field(default_factory=list)
    replace: Callable[[cst.CSTNode], cst.CSTNode] | None = None
    insert_before: list[str] = field(default_factory=list)


def replace_with(new: cst.CSTNode) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An ``Edit.replace`` that swaps the node for ``new``."""

    def _replace(_old: cst.CSTNode) -> cst.CSTNode:
        return new

    return _replace


def renamed_string(node: cst.SimpleString, value: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An ``Edit.replace`` that rewrites a string literal's value, keeping its prefix and quotes."""
    return replace_with(cst.SimpleString(f"{node.prefix}{node.quote}{value}{node.quote}"))


@dataclass
class Fix:
    """A safe, mechanical change to one file: node edits plus imports to add (module, name or None, alias)."""

    path: str
    edits: list[Edit] = field(default_factory=list)
    imports: list[tuple[str, str | None, str | None]] = field(default_factory=list)


@dataclass
class Hit:
    """Where a rule fired. ``node`` gives the exact range; YAML anchors give a path and a line."""

    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    message: str | None = None
    suggestion: str | None = None
    fix: Fix | None = None
    severity: Severity | None = None


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement :meth:`check`."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    checklist: ClassVar[str] = ""
    severity: ClassVar[Severity] = "warning"
    message: ClassVar[str] = ""
    suggestion: ClassVar[str] = ""
    fixable: ClassVar[bool] = False
    VALID: ClassVar[list[Example]] = []
    INVALID: ClassVar[list[Example]] = []

    def check(self, project: Project) -> Iterable[Hit]:
        raise NotImplementedError

    def visitor(self, index: FileIndex) -> cst.BatchableCSTVisitor | None:
        """An optional visitor run in the file's one batched traversal (most rules query the index instead)."""
        return None

    # helpers -------------------------------------------------------------------------------------------
    def at(
        self,
        file: FileIndex,
        node: cst.CSTNode,
        message: str | None = None,
        suggestion: str | None = None,
        fix: Fix | None = None,
        severity: Severity | None = None,
        within: cst.CSTNode | None = None,
    ) -> Hit:
        line, col, end_line, end_col = file.range(node, within)
        return Hit(file.path, line, col, end_line, end_col, message, suggestion, fix, severity)

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")


class PrimaryRule(Rule):
    """The main rule of one checklist item; it also judges the item when no rule of the item failed."""

    def judge(self, project: Project) -> tuple[Status, str]:
        raise NotImplementedError


def first_line_anchor(project: Project) -> tuple[FileIndex, cst.CSTNode] | None:
    """An anchor for project-level findings: the first Trainer/CLI call, else the first training loop."""
    for call in project.trainer_calls + project.cli_calls + project.backward_calls:
        return call.file, call.node
    for f in project.entry_files:
        return f, f.module.body[0] if f.module.body else f.module
    return None
