"""One LibCST traversal per file that records the facts every rule queries (calls, classes, functions, loops).

Why an index instead of one visitor per rule: most checklist items are about *absence* across a project
(no clipping anywhere, no seed in the entry point), which a node visitor cannot decide alone. The indexer runs
once per file in a batched traversal (together with any rule that still wants its own visitor), resolves import
aliases (``import lightning as L``, ``from pytorch_lightning import Trainer as T``) and both Lightning packages
to one canonical spelling, and keeps node identities so that fixes can target the very nodes a rule reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from tools.review.positions import ast_positions
from tools.review.walk import walk_batched

MISSING: Any = object()
"""Marker for 'not a literal that can be known statically'."""


def canonical(dotted: str) -> str:
    """One spelling for both Lightning packages: ``pytorch_lightning.X`` and ``lightning.X`` -> ``lightning.pytorch.X``."""
    if dotted == "pytorch_lightning" or dotted.startswith("pytorch_lightning."):
        return "lightning.pytorch" + dotted[len("pytorch_lightning") :]
    if dotted == "lightning":
        return "lightning.pytorch"
    if dotted.startswith("lightning.") and not dotted.startswith(("lightning.pytorch", "lightning.fabric")):
        return "lightning.pytorch." + dotted[len("lightning.") :]
    return dotted


@dataclass(eq=False)
class FuncInfo:
    """A function or method definition and what it contains."""

    name: str
    node: cst.FunctionDef
    cls: ClassInfo | None
    calls: list[Call] = field(default_factory=list)
    params: dict[str, cst.Param] = field(default_factory=dict)
    dict_items: list[tuple[str, cst.BaseExpression]] = field(default_factory=list)
    """``"key": value`` entries (string keys) of dict literals written in this function, any nesting."""

    def param_default(self, name: str) -> Any:
        """The literal default of parameter ``name`` (or MISSING)."""
        param = self.params.get(name)
        if param is None or param.default is None:
            return MISSING
        return literal(param.default)


@dataclass(eq=False)
class ClassInfo:
    """A class definition: canonical base names, methods, annotated fields."""

    name: str
    node: cst.ClassDef
    bases: list[str]
    decorators: list[str]
    methods: dict[str, FuncInfo] = field(default_factory=dict)
    fields: dict[str, cst.AnnAssign] = field(default_factory=dict)
    assigns: dict[str, cst.BaseExpression] = field(default_factory=dict)

    def base_shorts(self) -> set[str]:
        return {b.rsplit(".", 1)[-1] for b in self.bases}


@dataclass(eq=False)
class Call:
    """One call expression with its context."""

    node: cst.Call
    name: str
    """Canonical dotted name of the callee ('' when the callee is not a name/attribute chain)."""
    raw: str
    file: FileIndex
    func: FuncInfo | None
    cls: ClassInfo | None
    loops: tuple[cst.CSTNode, ...]
    main_guard: bool
    stmt: cst.CSTNode | None
    target: str | None
    resolved: bool
    """Whether the callee's root name came from an import (False for bare names in a snippet)."""

    @cached_property
    def short(self) -> str:
        """The callee's last name component (cached: rules ask for it hundreds of thousands of times)."""
        return self.name.rsplit(".", 1)[-1] if self.name else ""

    def is_(self, short: str | Sequence[str], roots: Sequence[str] = ()) -> bool:
        """The callee is one of ``short`` (last name component) from one of the ``roots`` packages.

        With no roots, any package matches. An unresolved root (a snippet without imports) matches too:
        reviewers stay useful on pasted fragments.
        """
        shorts = (short,) if isinstance(short, str) else short
        if self.short not in shorts:
            return False
        if not roots or not self.resolved:
            return True
        return any(self.name == r or self.name.startswith(r + ".") for r in roots)

    def kw(self, name: str) -> cst.Arg | None:
        for arg in self.node.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg
        return None

    def kw_node(self, name: str) -> cst.BaseExpression | None:
        """The value expression of keyword argument ``name`` (None when not passed)."""
        arg = self.kw(name)
        return None if arg is None else arg.value

    def kw_value(self, name: str) -> Any:
        arg = self.kw(name)
        return MISSING if arg is None else literal(arg.value)

    def positional(self, index: int) -> cst.BaseExpression | None:
        pos = [a for a in self.node.args if a.keyword is None and not a.star]
        return pos[index].value if index < len(pos) else None

    @property
    def has_star_kwargs(self) -> bool:
        return any(a.star == "**" for a in self.node.args)

    @property
    def has_star_args(self) -> bool:
        return any(a.star == "*" for a in self.node.args)

    @property
    def receiver(self) -> str:
        """For ``a.b.c(...)`` the raw ``a.b``; '' for plain names."""
        return self.raw.rsplit(".", 1)[0] if "." in self.raw else ""

    def code(self, limit: int = 90) -> str:
        return self.file.code(self.node, limit)

    def where(self) -> str:
        return f"{self.file.path}:{self.file.line(self.node)}"


@dataclass(eq=False)
class Assignment:
    """``target = value`` (single-name targets, also ``self.x = value``)."""

    target: str
    value: cst.BaseExpression
    node: cst.CSTNode
    func: FuncInfo | None
    cls: ClassInfo | None


@dataclass(eq=False)
class Loop:
    """A for/while loop; ``iter`` is the raw dotted name of what a for-loop iterates over ('' otherwise)."""

    node: cst.CSTNode
    iter: str
    iter_code: str
    func: FuncInfo | None
    parents: tuple[cst.CSTNode, ...]


def literal(node: cst.CSTNode | None) -> Any:
    """The Python value of a literal expression, or MISSING when it is not known statically.

    Evaluated directly on the tree (no ``ast.literal_eval`` round trip: this is called for every keyword
    argument a rule inspects, and compiling each one cost a quarter of the review time).
    """
    if node is None:
        return MISSING
    try:
        return _literal(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return MISSING


_CONSTANTS = {"True": True, "False": False, "None": None}


def _literal(node: cst.CSTNode) -> Any:
    if isinstance(node, cst.Name):
        return _CONSTANTS.get(node.value, MISSING)
    if isinstance(node, cst.Integer | cst.Float | cst.Imaginary):
        return node.evaluated_value
    if isinstance(node, cst.SimpleString):
        return string_value(node)
    if isinstance(node, cst.ConcatenatedString):
        value = node.evaluated_value
        return MISSING if value is None else value
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Plus):
        inner = _literal(node.expression)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner if isinstance(node.operator, cst.Minus) else inner
        return MISSING
    if isinstance(node, cst.List | cst.Tuple | cst.Set):
        items = []
        for el in node.elements:
            if not isinstance(el, cst.Element):
                return MISSING
            value = _literal(el.value)
            if value is MISSING:
                return MISSING
            items.append(value)
        if isinstance(node, cst.Tuple):
            return tuple(items)
        return set(items) if isinstance(node, cst.Set) else items
    if isinstance(node, cst.Dict):
        out = {}
        for item in node.elements:
            if not isinstance(item, cst.DictElement):
                return MISSING
            key, value = _literal(item.key), _literal(item.value)
            if key is MISSING or value is MISSING:
                return MISSING
            out[key] = value
        return out
    return MISSING


def string_value(node: cst.SimpleString) -> str | bytes:
    """The value of a string literal; plain strings without escapes skip LibCST's literal_eval round trip."""
    prefix = node.prefix.lower()
    if prefix in ("", "r") and ("\\" not in node.value or prefix == "r"):
        quote = node.quote
        return node.value[len(node.prefix) + len(quote) : len(node.value) - len(quote)]
    return node.evaluated_value


def _dotted(node: cst.CSTNode) -> str:
    return get_full_name_for_node(node) or ""


class FileIndex:
    """The facts of one Python file, queried by the rules."""

    def __init__(self, path: str, source: str, module: cst.Module) -> None:
        self.path = path
        self.source = source
        self.module = module
        self.lines = source.splitlines()
        self.aliases: dict[str, str] = {}
        self.local_defs: set[str] = set()
        self.calls: list[Call] = []
        self.classes: dict[str, ClassInfo] = {}
        self.functions: list[FuncInfo] = []
        self.assignments: list[Assignment] = []
        self.loops: list[Loop] = []
        self.strings: list[tuple[cst.SimpleString, str]] = []
        self.positions: dict[cst.CSTNode, tuple[int, int, int, int]] = {}
        self.provider: Any = None  # PositionProvider results when the ast pairing could not be used
        self.containers: dict[cst.CSTNode, cst.CSTNode] = {}
        self.has_main_guard = False
        self._line_starts: list[int] | None = None
        # LibCST nodes in visit order, paired with ast nodes for positions (see tools.review.positions).
        self.order_defs: list[tuple[cst.CSTNode, str]] = []
        self.order_assigns: list[cst.CSTNode] = []
        self.order_keywords: list[cst.Arg] = []

    # -- positions and code -------------------------------------------------------------------------------
    def range(self, node: cst.CSTNode, within: cst.CSTNode | None = None) -> tuple[int, int, int, int]:
        """1-based (line, column, end_line, end_column) of a node.

        Calls, definitions, loops, assignments and keyword arguments have exact positions; any other node is
        found by its text inside the nearest such container (``within`` or the one recorded while indexing).
        """
        if self.provider is not None:
            pos: CodeRange | None = self.provider.get(node)
            if pos is not None:
                return (pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)
            return (1, 1, 1, 1)
        found = self.positions.get(node)
        if found is not None:
            return found
        container = within if within is not None else self.containers.get(node)
        if container is not None and container is not node:
            outer = self.range(container)
            located = self._locate(node, outer)
            return located or outer
        located = self._locate(node, (1, 1, len(self.lines) + 1, 1))
        return located or (1, 1, 1, 1)

    def _offset(self, line: int, col: int) -> int:
        if self._line_starts is None:
            starts, total = [0], 0
            for text in self.source.splitlines(keepends=True):
                total += len(text)
                starts.append(total)
            self._line_starts = starts
        line = min(max(line, 1), len(self._line_starts))
        return self._line_starts[line - 1] + col - 1

    def _locate(
        self, node: cst.CSTNode, outer: tuple[int, int, int, int]
    ) -> tuple[int, int, int, int] | None:
        text = self.module.code_for_node(node).strip()
        if not text:
            return None
        start = self._offset(outer[0], outer[1])
        end = self._offset(outer[2], outer[3]) if outer[2] <= len(self.lines) else len(self.source)
        idx = self.source.find(text, start, max(end, start + len(text)))
        if idx < 0:
            return None
        assert self._line_starts is not None
        import bisect

        line = bisect.bisect_right(self._line_starts, idx)
        col = idx - self._line_starts[line - 1] + 1
        end_idx = idx + len(text)
        end_line = bisect.bisect_right(self._line_starts, end_idx - 1) if end_idx > idx else line
        end_col = end_idx - self._line_starts[end_line - 1] + 1
        return (line, col, end_line, end_col)

    def line(self, node: cst.CSTNode, within: cst.CSTNode | None = None) -> int:
        return self.range(node, within)[0]

    def code(self, node: cst.CSTNode, limit: int = 90) -> str:
        text = " ".join(self.module.code_for_node(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    # -- name resolution ----------------------------------------------------------------------------------
    def resolve(self, dotted: str) -> tuple[str, bool]:
        """Canonical name of a dotted expression and whether its root came from an import."""
        if not dotted:
            return "", False
        root, _, rest = dotted.partition(".")
        if root in self.aliases:
            full = self.aliases[root] + ("." + rest if rest else "")
            return canonical(full), True
        return dotted, False

    def calls_named(self, short: str | Sequence[str], roots: Sequence[str] = ()) -> Iterator[Call]:
        return (c for c in self.calls if c.is_(short, roots))

    def imports_module(self, *prefixes: str) -> bool:
        return any(v == p or v.startswith(p + ".") for v in self.aliases.values() for p in prefixes)


class Indexer(cst.BatchableCSTVisitor):
    """Fills a :class:`FileIndex` in one traversal (run batched with the rules' own visitors)."""

    def __init__(self, index: FileIndex) -> None:
        super().__init__()
        self.ix = index
        self.class_stack: list[ClassInfo] = []
        self.func_stack: list[FuncInfo] = []
        self.scope: list[str] = []  # "class" / "func", innermost last
        self.loop_stack: list[cst.CSTNode] = []
        self.loop_base: list[int] = []  # loop-stack depth at each function entry
        self.stmt_stack: list[cst.CSTNode] = []
        self.main_depth = 0
        self.call_stack: list[cst.Call] = []

    # imports ---------------------------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = _dotted(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.ix.aliases[alias.asname.name.value] = full
            else:
                root = full.split(".", 1)[0]
                self.ix.aliases.setdefault(root, root)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _dotted(node.module) if node.module is not None else ""
        prefix = "." * len(node.relative) + module
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = _dotted(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.ix.aliases[local] = (
                f"{prefix}.{name}" if prefix and not prefix.endswith(".") else prefix + name
            )

    # statements -------------------------------------------------------------------------------------------
    def _push_stmt(self, node: cst.CSTNode) -> None:
        self.stmt_stack.append(node)

    def _pop_stmt(self, node: cst.CSTNode) -> None:
        if self.stmt_stack and self.stmt_stack[-1] is node:
            self.stmt_stack.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._push_stmt(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._pop_stmt(original_node)

    # classes and functions -------------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = [self.ix.resolve(_dotted(b.value))[0] for b in node.bases if b.keyword is None]
        decorators = [self.ix.resolve(_dotted(d.decorator))[0] for d in node.decorators]
        info = ClassInfo(name=node.name.value, node=node, bases=bases, decorators=decorators)
        self.ix.order_defs.append((node, info.name))
        self.ix.containers[node.name] = node
        if not self.scope or self.scope[-1] == "class" or info.name not in self.ix.classes:
            self.ix.classes.setdefault(info.name, info)
            self.ix.local_defs.add(info.name)
        for stmt in node.body.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        info.fields[small.target.value] = small
                    elif isinstance(small, cst.Assign) and small.value is not None:
                        for t in small.targets:
                            if isinstance(t.target, cst.Name):
                                info.assigns[t.target.value] = small.value
        self.class_stack.append(info)
        self.scope.append("class")
        self._push_stmt(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()
        self.scope.pop()
        self._pop_stmt(original_node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        cls = self.class_stack[-1] if self.scope and self.scope[-1] == "class" else None
        info = FuncInfo(name=node.name.value, node=node, cls=cls)
        self.ix.order_defs.append((node, info.name))
        self.ix.containers[node.name] = node
        for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            info.params[p.name.value] = p
        if cls is not None:
            cls.methods[info.name] = info
        elif not self.func_stack:
            self.ix.local_defs.add(info.name)
        self.ix.functions.append(info)
        self.func_stack.append(info)
        self.scope.append("func")
        self.loop_base.append(len(self.loop_stack))
        self._push_stmt(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.func_stack.pop()
        self.scope.pop()
        self.loop_base.pop()
        self._pop_stmt(original_node)

    # loops and the main guard -----------------------------------------------------------------------------
    def _enter_loop(self, node: cst.For | cst.While) -> None:
        iter_expr: cst.BaseExpression | None = node.iter if isinstance(node, cst.For) else None
        raw = _dotted(iter_expr) if iter_expr is not None else ""
        if isinstance(iter_expr, cst.Call):
            # enumerate(loader) / tqdm(loader): what is really iterated is the first argument.
            raw = _dotted(iter_expr.args[0].value) if iter_expr.args else raw
        base = self.loop_base[-1] if self.loop_base else 0
        self.ix.loops.append(
            Loop(
                node=node,
                iter=raw,
                iter_code=self.ix.code(iter_expr) if iter_expr is not None else "",
                func=self.func_stack[-1] if self.func_stack else None,
                parents=tuple(self.loop_stack[base:]),
            )
        )
        self.loop_stack.append(node)
        self._push_stmt(node)

    def visit_For(self, node: cst.For) -> None:
        self._enter_loop(node)

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_stack.pop()
        self._pop_stmt(original_node)

    def visit_While(self, node: cst.While) -> None:
        self._enter_loop(node)

    def leave_While(self, original_node: cst.While) -> None:
        self.loop_stack.pop()
        self._pop_stmt(original_node)

    @staticmethod
    def _is_main_guard(node: cst.If) -> bool:
        test = node.test
        if (
            isinstance(test, cst.Comparison)
            and isinstance(test.left, cst.Name)
            and test.left.value == "__name__"
            and len(test.comparisons) == 1
        ):
            comp = test.comparisons[0].comparator
            return isinstance(comp, cst.SimpleString) and "__main__" in comp.value
        return False

    def visit_If(self, node: cst.If) -> None:
        if self._is_main_guard(node):
            self.main_depth += 1
            self.ix.has_main_guard = True
        self._push_stmt(node)

    def leave_If(self, original_node: cst.If) -> None:
        if self._is_main_guard(original_node):
            self.main_depth -= 1
        self._pop_stmt(original_node)

    def visit_With(self, node: cst.With) -> None:
        self._push_stmt(node)

    def leave_With(self, original_node: cst.With) -> None:
        self._pop_stmt(original_node)

    def visit_Try(self, node: cst.Try) -> None:
        self._push_stmt(node)

    def leave_Try(self, original_node: cst.Try) -> None:
        self._pop_stmt(original_node)

    # assignments ----------------------------------------------------------------------------------------
    def _record_assign(
        self, target: cst.BaseExpression, value: cst.BaseExpression, node: cst.CSTNode
    ) -> None:
        name = _dotted(target)
        if not name:
            return
        self.ix.assignments.append(
            Assignment(
                target=name,
                value=value,
                node=node,
                func=self.func_stack[-1] if self.func_stack else None,
                cls=self.class_stack[-1] if self.class_stack else None,
            )
        )
        if not self.func_stack and not self.class_stack and "." not in name:
            self.ix.local_defs.add(name)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.ix.order_keywords.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.ix.order_assigns.append(node)
        for t in node.targets:
            if isinstance(t.target, cst.Tuple) and isinstance(node.value, cst.Tuple | cst.Call):
                for el in t.target.elements:
                    self._record_assign(el.value, node.value, node)
            else:
                self._record_assign(t.target, node.value, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.ix.order_assigns.append(node)
        if node.value is not None:
            self._record_assign(node.target, node.value, node)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if self.func_stack and isinstance(node.key, cst.SimpleString):
            key = literal(node.key)
            if isinstance(key, str):
                self.func_stack[-1].dict_items.append((key, node.value))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        try:
            value = string_value(node)
        except Exception:
            return
        if isinstance(value, str) and len(value) < 200:
            self.ix.strings.append((node, value))
            if self.call_stack:
                self.ix.containers[node] = self.call_stack[-1]
            elif self.stmt_stack:
                self.ix.containers[node] = self.stmt_stack[-1]

    # calls ----------------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        raw = _dotted(node.func) if isinstance(node.func, cst.Name | cst.Attribute) else ""
        name, resolved = self.ix.resolve(raw)
        stmt = self.stmt_stack[-1] if self.stmt_stack else None
        target = None
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            if isinstance(small, cst.Assign) and small.value is node and len(small.targets) == 1:
                target = _dotted(small.targets[0].target) or None
            elif isinstance(small, cst.AnnAssign) and small.value is node:
                target = _dotted(small.target) or None
        base = self.loop_base[-1] if self.loop_base else 0
        func = self.func_stack[-1] if self.func_stack else None
        call = Call(
            node=node,
            name=name,
            raw=raw,
            file=self.ix,
            func=func,
            cls=self.class_stack[-1] if self.class_stack else None,
            loops=tuple(self.loop_stack[base:]),
            main_guard=self.main_depth > 0,
            stmt=stmt,
            target=target,
            resolved=resolved,
        )
        self.ix.calls.append(call)
        self.call_stack.append(node)
        if func is not None:
            func.calls.append(call)

    def leave_Call(self, original_node: cst.Call) -> None:
        self.call_stack.pop()


def build_index(
    path: str,
    source: str,
    module: cst.Module,
    extra_visitors: Sequence[cst.BatchableCSTVisitor] = (),
    tree: ast.Module | None = None,
) -> FileIndex:
    """Index one parsed module (one batched traversal shared with ``extra_visitors``).

    ``tree`` is CPython's parse of the same source when the caller has it (positions reuse it).
    """
    index = FileIndex(path, source, module)
    visitors = [Indexer(index), *extra_visitors]
    if any(getattr(v, "METADATA_DEPENDENCIES", ()) for v in extra_visitors):
        MetadataWrapper(module, unsafe_skip_copy=True).visit_batched(visitors)
    else:
        walk_batched(module, visitors)
    positions = ast_positions(
        source,
        [(c.node, c.raw) for c in index.calls],
        index.order_defs,
        [loop.node for loop in index.loops],
        index.order_assigns,
        index.order_keywords,
        tree,
    )
    if positions is None:
        index.provider = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    else:
        index.positions = positions
    return index
