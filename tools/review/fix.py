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


# Helpers for request-driven edits (tools/edit): they build on the same layout-keeping argument edits. ----------


def set_kwargs(call: cst.Call, pairs: Sequence[tuple[str, str]]) -> cst.Call:
    """Set keyword arguments: a present one gets its value replaced in place, a missing one is added.

    Values are Python source. Replacing in place keeps the argument order and any comment beside it.
    """
    values = dict(pairs)
    args = [
        a.with_changes(value=cst.parse_expression(values[a.keyword.value]))
        if a.keyword is not None and a.keyword.value in values
        else a
        for a in call.args
    ]
    present = {a.keyword.value for a in call.args if a.keyword is not None}
    missing = [
        cst.Arg(keyword=cst.Name(k), value=cst.parse_expression(v), equal=_EQ)
        for k, v in pairs
        if k not in present
    ]
    updated = call.with_changes(args=args)
    return _add_args(updated, missing) if missing else updated


def _add_args(call: cst.Call, new: list[cst.Arg]) -> cst.Call:
    """Append ``new`` arguments (before any ``**kwargs``), keeping line layout and end-of-line comments in place."""
    args = list(call.args)
    if not args:
        return call.with_changes(args=[a.with_changes(comma=_COMMA) for a in new[:-1]] + new[-1:])
    sep = _separator(call)
    stars = [i for i, a in enumerate(args) if a.star == "**"]
    if stars:
        at = stars[0]
        return call.with_changes(
            args=args[:at] + [a.with_changes(comma=cst.Comma(whitespace_after=sep)) for a in new] + args[at:]
        )
    last = args[-1]
    comma = last.comma
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        # ``arg,  # comment`` then ``)`` on its own line: the comment stays on ``arg``'s line.
        closing = comma.whitespace_after
        between = sep if isinstance(sep, cst.ParenthesizedWhitespace) else closing
        last_comma: cst.Comma | cst.MaybeSentinel = comma.with_changes(
            whitespace_after=between.with_changes(
                first_line=closing.first_line, empty_lines=closing.empty_lines
            )
        )
        final: cst.Comma | cst.MaybeSentinel = comma.with_changes(
            whitespace_after=closing.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        )
    else:
        last_comma = cst.Comma(whitespace_after=sep)
        final = comma
    out = [*args[:-1], last.with_changes(comma=last_comma, whitespace_after_arg=cst.SimpleWhitespace(""))]
    for i, arg in enumerate(new):
        if i == len(new) - 1:
            out.append(arg.with_changes(comma=final, whitespace_after_arg=last.whitespace_after_arg))
        else:
            out.append(arg.with_changes(comma=cst.Comma(whitespace_after=sep)))
    return call.with_changes(args=out)


def append_list_items(node: cst.List, items: Sequence[str]) -> cst.List:
    """``[a, b]`` + items, on one line or one item per line, as the list is already written."""
    new = [cst.Element(cst.parse_expression(code)) for code in items]
    if not node.elements:
        return node.with_changes(elements=[e.with_changes(comma=_COMMA) for e in new[:-1]] + new[-1:])
    last = node.elements[-1]
    trailing = last.comma
    ws = _list_separator(node)
    elements = list(node.elements[:-1])
    comma: cst.Comma | cst.MaybeSentinel
    comma = last.comma if isinstance(last.comma, cst.Comma) else cst.Comma(whitespace_after=ws)
    if isinstance(comma, cst.Comma) and not isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        comma = cst.Comma(whitespace_after=ws)
    elements.append(last.with_changes(comma=comma))
    for i, element in enumerate(new):
        if i == len(new) - 1:
            elements.append(element.with_changes(comma=trailing))
        else:
            elements.append(element.with_changes(comma=cst.Comma(whitespace_after=ws)))
    return node.with_changes(elements=elements)


def _list_separator(node: cst.List) -> cst.BaseParenthesizableWhitespace:
    for element in node.elements[:-1]:
        if isinstance(element.comma, cst.Comma):
            return element.comma.whitespace_after
    if isinstance(node.lbracket.whitespace_after, cst.ParenthesizedWhitespace):
        return node.lbracket.whitespace_after
    return cst.SimpleWhitespace(" ")


_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
