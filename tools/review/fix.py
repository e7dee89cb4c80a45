"""Applies rule fixes to a file with one LibCST transformer (edits keyed by original node identity)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import libcst as cst

from tools.review.rules.base import Edit, Fix


class _Applier(cst.CSTTransformer):
    def __init__(self, edits: Iterable[Edit]) -> None:
        super().__init__()
        self.edits: dict[cst.CSTNode, list[Edit]] = {}
        for edit in edits:
            self.edits.setdefault(edit.node, []).append(edit)

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def, override]
        updated = super().on_leave(original_node, updated_node)
        edits = self.edits.get(original_node)
        if edits and isinstance(updated, cst.CSTNode):
            for edit in edits:
                if edit.replace is not None:
                    updated = edit.replace(updated)
                if isinstance(updated, cst.Call) and (edit.add_kwargs or edit.remove_kwargs):
                    updated = _edit_kwargs(updated, edit)
        if isinstance(updated, cst.Module | cst.IndentedBlock) and isinstance(
            original_node, cst.Module | cst.IndentedBlock
        ):
            updated = self._insert(original_node, updated)
        return updated

    def _insert(self, original: cst.Module | cst.IndentedBlock, updated: cst.Module | cst.IndentedBlock):  # type: ignore[no-untyped-def]
        if len(original.body) != len(updated.body):
            return updated
        body: list[cst.BaseStatement] = []
        changed = False
        for orig, upd in zip(original.body, updated.body, strict=True):
            for edit in self.edits.get(orig, []):
                for line in edit.insert_before:
                    stmt = cst.parse_statement(line + "\n")
                    body.append(stmt)
                    changed = True
                if edit.insert_before and isinstance(
                    upd, cst.SimpleStatementLine | cst.BaseCompoundStatement
                ):
                    # Keep comments/blank lines above the original statement above the inserted one.
                    lead = upd.leading_lines
                    if lead:
                        body[-len(edit.insert_before)] = body[-len(edit.insert_before)].with_changes(
                            leading_lines=lead
                        )
                        upd = upd.with_changes(leading_lines=())
            body.append(upd)
        return updated.with_changes(body=body) if changed else updated


def _edit_kwargs(call: cst.Call, edit: Edit) -> cst.Call:
    """Remove/add keyword arguments, keeping the call's layout (one line, or one argument per line)."""
    kept = [a for a in call.args if not (a.keyword is not None and a.keyword.value in edit.remove_kwargs)]
    present = {a.keyword.value for a in kept if a.keyword is not None}
    new = [
        cst.Arg(keyword=cst.Name(name), value=cst.parse_expression(code), equal=_EQ)
        for name, code in edit.add_kwargs
        if name not in present
    ]
    if not new and len(kept) == len(call.args):
        return call
    original_last = call.args[-1] if call.args else None
    trailing = original_last.comma if original_last is not None else cst.MaybeSentinel.DEFAULT
    sep = _separator(call)
    ordered = [a for a in kept if a.star != "**"] + new + [a for a in kept if a.star == "**"]
    fixed: list[cst.Arg] = []
    for i, arg in enumerate(ordered):
        if i == len(ordered) - 1:
            comma: cst.Comma | cst.MaybeSentinel = trailing
        elif isinstance(arg.comma, cst.Comma) and arg is not original_last:
            comma = arg.comma
        else:
            comma = cst.Comma(whitespace_after=sep)
        fixed.append(arg.with_changes(comma=comma))
    return call.with_changes(args=fixed)


def _separator(call: cst.Call) -> cst.BaseParenthesizableWhitespace:
    """The whitespace after commas between arguments (a newline + indent in one-per-line calls)."""
    for a in call.args[:-1]:
        if isinstance(a.comma, cst.Comma):
            return a.comma.whitespace_after
    last = call.args[-1] if call.args else None
    if last is not None and isinstance(last.comma, cst.Comma):
        ws = last.comma.whitespace_after
        if isinstance(ws, cst.ParenthesizedWhitespace):
            # Trailing comma before a closing paren on its own line: reuse the opening indentation.
            lpar = call.whitespace_before_args
            if isinstance(lpar, cst.ParenthesizedWhitespace):
                return lpar
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return call.whitespace_before_args
    return cst.SimpleWhitespace(" ")


_EQ = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def argument_indent(call: cst.Call) -> str | None:
    """The indentation of a call's arguments when they sit one per line (None for one-line calls)."""
    for arg in call.args:
        ws = arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else None
        if isinstance(ws, cst.ParenthesizedWhitespace):
            return ws.last_line.value
    ws = call.whitespace_before_args
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.last_line.value
    return None


def list_literal(items: Sequence[str], indent: str | None) -> str:
    """``[a, b]`` on one line, or one item per line at ``indent`` + 4 spaces for one-per-line calls."""
    if indent is None:
        return "[" + ", ".join(items) + "]"
    inner = indent + "    "
    return "[\n" + "".join(f"{inner}{item},\n" for item in items) + f"{indent}]"


def apply_fixes(source: str, module: cst.Module, fixes: Sequence[Fix]) -> str:
    """The fixed source of one file (the input unchanged when nothing applies or the result would not parse)."""
    edits = [e for f in fixes for e in f.edits]
    new_module = module.visit(_Applier(edits)) if edits else module
    imports = {i for f in fixes for i in f.imports if i[0]}
    if imports:
        # Imported here: libcst.codemod pulls in libcst.matchers (~0.5 s), which a plain review never needs.
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor

        context = CodemodContext()
        for mod, obj, alias in sorted(imports, key=lambda t: (t[0], t[1] or "", t[2] or "")):
            AddImportsVisitor.add_needed_import(context, mod, obj, alias)
        new_module = AddImportsVisitor(context).transform_module(new_module)
    code = new_module.code
    try:
        cst.parse_module(code)
        compile(code, "<fixed>", "exec", dont_inherit=True, flags=0x400)  # ast.PyCF_ONLY_AST
    except (cst.ParserSyntaxError, SyntaxError, ValueError):
        return source
    return code


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )
