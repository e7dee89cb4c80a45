"""Node positions from CPython's ``ast`` instead of LibCST's PositionProvider.

Why: PositionProvider re-generates the whole module's code with per-token bookkeeping, which costs more than
parsing and visiting together (seconds for a 3,000-line file on a busy 2-core machine). ``ast.parse`` is an
order of magnitude cheaper. Nodes of the same kind are visited by LibCST in source order, so sorting ast nodes
by start (outer before inner on ties) pairs them one-to-one with the LibCST nodes the indexer recorded; the
pairing is verified (callee names, definition names, node kinds) and the caller falls back to PositionProvider
whenever it does not hold.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

import libcst as cst

Range = tuple[int, int, int, int]


def _key(node: Any) -> tuple[int, int, int, int]:
    return (node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0))


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        inner = _dotted(node.func)
        return ".".join([inner, *reversed(parts)]) if inner else ""
    return ""


class _Lines:
    def __init__(self, source: str) -> None:
        self.lines = source.splitlines(keepends=True)
        self.ascii = source.isascii()

    def col(self, line: int, byte_col: int) -> int:
        """1-based character column from ast's 0-based UTF-8 byte offset."""
        if self.ascii:
            return byte_col + 1
        if 1 <= line <= len(self.lines):
            text = self.lines[line - 1]
            if text.isascii():
                return byte_col + 1
            return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace")) + 1
        return byte_col + 1


def ast_positions(
    source: str,
    calls: Sequence[tuple[cst.Call, str]],
    defs: Sequence[tuple[cst.CSTNode, str]],
    loops: Sequence[cst.CSTNode],
    assigns: Sequence[cst.CSTNode],
    keywords: Sequence[cst.Arg],
    tree: ast.Module | None = None,
) -> dict[cst.CSTNode, Range] | None:
    """Positions for the recorded LibCST nodes, or None when the pairing with ``ast`` cannot be trusted.

    ``tree`` is the module CPython already parsed (the engine parses first to guard LibCST); None parses here.
    """
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    a_calls: list[ast.Call] = []
    a_defs: list[Any] = []
    a_loops: list[Any] = []
    a_assigns: list[Any] = []
    a_keywords: list[ast.keyword] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            a_calls.append(node)
            a_keywords.extend(k for k in node.keywords if k.arg is not None)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            a_defs.append(node)
            if isinstance(node, ast.ClassDef):
                a_keywords.extend(k for k in node.keywords if k.arg is not None)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While):
            a_loops.append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            a_assigns.append(node)
    if (len(a_calls), len(a_defs), len(a_loops), len(a_assigns), len(a_keywords)) != (
        len(calls),
        len(defs),
        len(loops),
        len(assigns),
        len(keywords),
    ):
        return None
    for group in (a_calls, a_defs, a_loops, a_assigns, a_keywords):
        group.sort(key=_key)
    lines = _Lines(source)
    out: dict[cst.CSTNode, Range] = {}

    def put(cnode: cst.CSTNode, anode: Any) -> None:
        out[cnode] = (
            anode.lineno,
            lines.col(anode.lineno, anode.col_offset),
            anode.end_lineno or anode.lineno,
            lines.col(anode.end_lineno or anode.lineno, anode.end_col_offset or anode.col_offset),
        )

    for (c_call, raw), a_call in zip(calls, a_calls, strict=True):
        if raw and _dotted(a_call.func) != raw:
            return None
        put(c_call, a_call)
    for (c_def, name), a_def in zip(defs, a_defs, strict=True):
        if a_def.name != name:
            return None
        put(c_def, a_def)
    for c_loop, a_loop in zip(loops, a_loops, strict=True):
        if isinstance(c_loop, cst.While) != isinstance(a_loop, ast.While):
            return None
        put(c_loop, a_loop)
    for c_assign, a_assign in zip(assigns, a_assigns, strict=True):
        if isinstance(c_assign, cst.AnnAssign) != isinstance(a_assign, ast.AnnAssign):
            return None
        put(c_assign, a_assign)
    for c_kw, a_kw in zip(keywords, a_keywords, strict=True):
        if c_kw.keyword is None or c_kw.keyword.value != a_kw.arg:
            return None
        put(c_kw, a_kw)
    return out
