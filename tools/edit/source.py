"""What the transforms need to know about the code: imports, Trainer calls, LightningModules, lines.

This is a small, edit-oriented view (node identity kept: the fix applier keys edits by original node). The review
engine's index answers *is this right?*; this one answers *where do I change it?*.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

LIGHTNING_ROOTS = ("lightning", "pytorch_lightning")


@dataclass
class CallSite:
    """One call with the statement and scopes it sits in (for inserting statements before it)."""

    node: cst.Call
    qual: str
    stmt: cst.BaseStatement | None
    func: cst.FunctionDef | None
    cls: cst.ClassDef | None
    block: cst.Module | cst.IndentedBlock | None = None


@dataclass
class SourceFile:
    """One parsed Python file."""

    path: str
    text: str
    module: cst.Module
    imports: dict[str, str] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    classes: list[cst.ClassDef] = field(default_factory=list)

    @cached_property
    def _positions(self) -> dict[cst.CSTNode, object]:
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        return dict(wrapper.resolve(PositionProvider))

    def line(self, node: cst.CSTNode) -> int:
        pos = self._positions.get(node)
        return int(pos.start.line) if pos is not None else 1  # type: ignore[attr-defined]

    def where(self, node: cst.CSTNode) -> str:
        return f"{self.path}:{self.line(node)}"

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def qualify(self, node: cst.BaseExpression) -> str:
        """``L.Trainer`` -> ``lightning.Trainer`` through this file's imports (unresolved names stay as written)."""
        dotted = dotted_name(node)
        if not dotted:
            return ""
        head, _, rest = dotted.partition(".")
        base = self.imports.get(head, head)
        return f"{base}.{rest}" if rest else base

    @property
    def lightning(self) -> str | None:
        """The Lightning package this file imports: ``lightning.pytorch`` or ``pytorch_lightning`` (None if neither)."""
        for target in self.imports.values():
            if target == "pytorch_lightning" or target.startswith("pytorch_lightning."):
                return "pytorch_lightning"
        for target in self.imports.values():
            if target == "lightning" or target.startswith("lightning."):
                return "lightning.pytorch"
        return None

    def local_name(self, qual: str) -> str | None:
        """How this file already refers to ``qual`` (a ``from x import y`` name or a dotted alias), if it does."""
        for name, target in self.imports.items():
            if target == qual:
                return name
        for name, target in sorted(self.imports.items(), key=lambda kv: -len(kv[1])):
            if qual.startswith(target + "."):
                return name + qual[len(target) :]
        return None


def dotted_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


def is_trainer(qual: str) -> bool:
    """``Trainer``, ``L.Trainer``, ``pl.Trainer``, ``lightning.pytorch.Trainer``... (not Fabric, not HF)."""
    parts = qual.split(".")
    if parts[-1] != "Trainer":
        return False
    return len(parts) == 1 or parts[0] in LIGHTNING_ROOTS


class _Collector(cst.CSTVisitor):
    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self.src = source
        self.stmts: list[cst.BaseStatement] = []
        self.funcs: list[cst.FunctionDef] = []
        self.classes: list[cst.ClassDef] = []
        self.blocks: list[cst.Module | cst.IndentedBlock] = []

    def visit_Module(self, node: cst.Module) -> None:
        self.blocks.append(node)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks.append(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self.blocks.pop()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.src.imports[alias.asname.name.value] = full
            else:
                head = full.split(".")[0]
                self.src.imports.setdefault(head, head)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        mod = dotted_name(node.module)
        for alias in node.names:
            name = dotted_name(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.src.imports[local] = f"{mod}.{name}"

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.stmts.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.stmts.pop()

    def _enter_compound(self, node: cst.BaseCompoundStatement) -> None:
        self.stmts.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stmts.append(node)
        self.funcs.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stmts.pop()
        self.funcs.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.stmts.append(node)
        self.classes.append(node)
        self.src.classes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stmts.pop()
        self.classes.pop()

    def visit_Call(self, node: cst.Call) -> None:
        stmt = self.stmts[-1] if self.stmts else None
        func = self.funcs[-1] if self.funcs else None
        cls = self.classes[-1] if self.classes else None
        block = self.blocks[-1] if self.blocks else None
        self.src.calls.append(CallSite(node, "", stmt, func, cls, block))


def parse_file(path: str, text: str) -> SourceFile | None:
    """The parsed file, or None when it is not Python LibCST can read."""
    try:
        module = cst.parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    src = SourceFile(path, text, module)
    module.visit(_Collector(src))
    for site in src.calls:
        site.qual = src.qualify(site.node.func)
    return src


@dataclass
class Project:
    """The Python files of a request, parsed (other files pass through untouched)."""

    files: dict[str, SourceFile]

    @classmethod
    def parse(cls, texts: dict[str, str]) -> Project:
        parsed = {p: parse_file(p, t) for p, t in texts.items() if p.endswith(".py") or len(texts) == 1}
        return cls({p: f for p, f in parsed.items() if f is not None})

    def all_calls(self) -> Iterator[tuple[SourceFile, CallSite]]:
        for f in self.files.values():
            for site in f.calls:
                yield f, site

    def trainer_calls(self) -> list[tuple[SourceFile, CallSite]]:
        return [(f, s) for f, s in self.all_calls() if is_trainer(s.qual)]

    def calls_named(self, *shorts: str) -> list[tuple[SourceFile, CallSite]]:
        return [(f, s) for f, s in self.all_calls() if s.qual.split(".")[-1] in shorts]

    @property
    def lightning(self) -> str:
        """The Lightning package the code uses (``lightning.pytorch`` when it says nothing)."""
        for f in self.files.values():
            if f.lightning == "pytorch_lightning":
                return "pytorch_lightning"
        return "lightning.pytorch"

    def lightning_modules(self) -> list[tuple[SourceFile, cst.ClassDef]]:
        """Classes deriving from ``LightningModule`` (directly or through a class defined here)."""
        by_name = {c.name.value: (f, c) for f in self.files.values() for c in f.classes}
        found: dict[str, tuple[SourceFile, cst.ClassDef]] = {}

        def is_lm(f: SourceFile, c: cst.ClassDef, depth: int = 0) -> bool:
            for base in c.bases:
                qual = f.qualify(base.value)
                if qual.endswith("LightningModule"):
                    return True
                parent = by_name.get(qual.split(".")[-1])
                if parent is not None and parent[1] is not c and depth < 5 and is_lm(*parent, depth + 1):
                    return True
            return False

        for name, (f, c) in by_name.items():
            if is_lm(f, c):
                found[name] = (f, c)
        return list(found.values())


def methods(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    if not isinstance(cls.body, cst.IndentedBlock):
        return {}
    return {s.name.value: s for s in cls.body.body if isinstance(s, cst.FunctionDef)}


def kwarg(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def literal(node: cst.BaseExpression) -> object:
    """The value of a simple literal (str, int, float, bool, None), else ``...``."""
    if isinstance(node, cst.SimpleString):
        return node.evaluated_value
    if isinstance(node, cst.Integer | cst.Float):
        return node.evaluated_value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal(node.expression)
        return -inner if isinstance(inner, int | float) else ...
    return ...


def import_for(
    project: Project, file: SourceFile, qual_suffix: str, name: str
) -> tuple[str, tuple[str, str, None] | None]:
    """How to refer to ``<lightning>.<qual_suffix>.<name>`` in ``file``, and the import to add if one is needed.

    ``qual_suffix`` is e.g. ``callbacks``; the Lightning package is the one the code imports. A name already
    imported (from either spelling, e.g. ``lightning.pytorch.callbacks`` or ``lightning.pytorch.callbacks.early_stopping``)
    is reused.
    """
    for local, target in file.imports.items():
        if target.split(".")[-1] == name and target.split(".")[0] in LIGHTNING_ROOTS:
            return local, None
    package = file.lightning or project.lightning
    return name, (f"{package}.{qual_suffix}", name, None)


def unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))
