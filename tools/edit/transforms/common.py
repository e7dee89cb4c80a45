"""What every transform returns, and the helpers several of them share (Trainer arguments, callbacks, methods)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from tools.edit.source import CallSite, Project, SourceFile, kwarg, literal
from tools.review.fix import append_list_items, set_kwargs
from tools.review.rules.base import Edit, Fix, replace_with

Replace = Callable[[cst.CSTNode], cst.CSTNode]


def setting_kwargs(pairs: list[tuple[str, str]]) -> Replace:
    """An ``Edit.replace`` that sets keyword arguments on a call (see ``set_kwargs``)."""

    def _replace(node: cst.CSTNode) -> cst.CSTNode:
        return set_kwargs(node, pairs) if isinstance(node, cst.Call) else node

    return _replace


def appending(items: list[str]) -> Replace:
    """An ``Edit.replace`` that appends items to a list literal (see ``append_list_items``)."""

    def _replace(node: cst.CSTNode) -> cst.CSTNode:
        return append_list_items(node, items) if isinstance(node, cst.List) else node

    return _replace


def adding_method(code: str) -> Replace:
    def _replace(node: cst.CSTNode) -> cst.CSTNode:
        return add_method(node, code) if isinstance(node, cst.ClassDef) else node

    return _replace


def with_body(body: cst.IndentedBlock) -> Replace:
    def _replace(node: cst.CSTNode) -> cst.CSTNode:
        return node.with_changes(body=body) if isinstance(node, cst.FunctionDef) else node

    return _replace


@dataclass
class Outcome:
    """The fixes one edit makes, the sentences saying what changed where, and why parts could not be done."""

    fixes: list[Fix] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def edit(self, path: str, edit: Edit, imports: Sequence[tuple[str, str | None, str | None]] = ()) -> None:
        self.fixes.append(Fix(path, [edit], list(imports)))


NO_TRAINER = "no Trainer(...) call found in the code"


def open_trainers(project: Project, out: Outcome, what: str) -> list[tuple[SourceFile, CallSite]]:
    """The Trainer calls whose arguments we can edit; a ``Trainer(**cfg)`` is skipped with a reason."""
    calls = project.trainer_calls()
    if not calls:
        out.skipped.append(f"{what}: {NO_TRAINER}")
        return []
    editable = []
    for f, site in calls:
        if any(a.star == "**" for a in site.node.args):
            out.skipped.append(
                f"{what}: {f.code(site.node.func)}(**...) at {f.where(site.node)} takes its arguments from a "
                "mapping; set it where that mapping is built"
            )
            continue
        editable.append((f, site))
    return editable


def value_code(f: SourceFile, call: cst.Call, name: str) -> str | None:
    arg = kwarg(call, name)
    return f.code(arg.value) if arg is not None else None


def set_trainer_kwargs(project: Project, out: Outcome, what: str, pairs: list[tuple[str, str]]) -> None:
    """Set keyword arguments in every editable Trainer call and say what each was before."""
    for f, site in open_trainers(project, out, what):
        old = {k: value_code(f, site.node, k) for k, _ in pairs}
        changes = [
            (k, v)
            for k, v in pairs
            if old[k] is None or _current(site.node, k) != literal(cst.parse_expression(v))
        ]
        if not changes:
            out.applied.append(
                f"{f.where(site.node)}: {what}: the Trainer already has {_pairs(pairs)} (unchanged)"
            )
            continue
        out.edit(
            f.path,
            Edit(site.node, replace=setting_kwargs(changes)),
        )
        was = ", ".join(f"{k} was {old[k]}" for k, _ in changes if old[k] is not None)
        out.applied.append(
            f"{f.where(site.node)}: {f.code(site.node.func)}(...) now has {_pairs(changes)}"
            + (f" ({was})" if was else "")
        )


def _current(call: cst.Call, name: str) -> object:
    arg = kwarg(call, name)
    return literal(arg.value) if arg is not None else ...


def _pairs(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs)


def add_callback(
    project: Project,
    out: Outcome,
    what: str,
    short: str,
    code_for: str,
    import_module: str,
    update: list[tuple[str, str]] | None = None,
) -> None:
    """Add ``code_for`` (a callback constructor using the local name ``short``) to every Trainer's callbacks.

    An existing callback of the same class gets ``update`` set on it instead of a second copy. The import of
    ``short`` from ``import_module`` is added when the file does not import the class already.
    """
    for f, site in open_trainers(project, out, what):
        local, imp = _local(f, import_module, short)
        code = code_for.replace(short + "(", local + "(", 1)
        imports = [imp] if imp else []
        arg = kwarg(site.node, "callbacks")
        existing = _existing_callback(f, site, arg, short)
        if existing is not None:
            if update:
                out.edit(
                    f.path,
                    Edit(
                        existing,
                        replace=setting_kwargs(update),
                    ),
                )
                out.applied.append(f"{f.where(existing)}: the existing {short}(...) now has {_pairs(update)}")
            else:
                out.applied.append(f"{f.where(existing)}: {short}(...) is already there (unchanged)")
            continue
        if arg is None:
            indent = _arg_indent(site.node)
            lst = f"[{code}]" if indent is None else f"[\n{indent}    {code},\n{indent}]"
            out.edit(
                f.path,
                Edit(
                    site.node,
                    replace=setting_kwargs([("callbacks", lst)]),
                ),
                imports,
            )
            out.applied.append(
                f"{f.where(site.node)}: added callbacks=[{code}] to {f.code(site.node.func)}(...)"
            )
            continue
        target = _list_for(f, site, arg.value)
        if target is not None:
            out.edit(
                f.path,
                Edit(
                    target,
                    replace=appending([code]),
                ),
                imports,
            )
            out.applied.append(f"{f.where(target)}: appended {code} to the Trainer's callbacks")
        else:
            wrapped = f"[*{f.code(arg.value)}, {code}]"
            out.edit(f.path, Edit(arg.value, replace=replace_with(cst.parse_expression(wrapped))), imports)
            out.applied.append(f"{f.where(arg.value)}: the Trainer's callbacks are now {wrapped}")


def _local(f: SourceFile, module: str, short: str) -> tuple[str, tuple[str, str | None, str | None] | None]:
    for local, target in f.imports.items():
        if target.split(".")[-1] == short and target.split(".")[0] in ("lightning", "pytorch_lightning"):
            return local, None
    return short, (module, short, None)


def _arg_indent(call: cst.Call) -> str | None:
    from tools.review.fix import argument_indent

    return argument_indent(call)


def _existing_callback(f: SourceFile, site: CallSite, arg: cst.Arg | None, short: str) -> cst.Call | None:
    if arg is None:
        return None
    lst = _list_for(f, site, arg.value)
    elements = lst.elements if lst is not None else ()
    for el in elements:
        if isinstance(el.value, cst.Call) and f.qualify(el.value.func).split(".")[-1] == short:
            return el.value
    return None


def _list_for(f: SourceFile, site: CallSite, value: cst.BaseExpression) -> cst.List | None:
    """The list literal behind ``callbacks=``: written inline, or assigned once to the name it passes."""
    if isinstance(value, cst.List):
        return value
    if not isinstance(value, cst.Name):
        return None
    name = value.value
    scope: cst.CSTNode = site.func if site.func is not None else f.module
    found: list[cst.List] = []

    class _Find(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                if isinstance(t.target, cst.Name) and t.target.value == name:
                    found.append(node.value if isinstance(node.value, cst.List) else cst.List([]))

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if isinstance(node.target, cst.Name) and node.target.value == name and node.value is not None:
                found.append(node.value if isinstance(node.value, cst.List) else cst.List([]))

    scope.visit(_Find())
    if len(found) == 1 and found[0].lbracket is not None and found[0] in _identity(scope):
        return found[0]
    return None


def _identity(scope: cst.CSTNode) -> set[cst.CSTNode]:
    seen: set[cst.CSTNode] = set()

    class _All(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            seen.add(node)
            return True

    scope.visit(_All())
    return seen


def add_method(cls: cst.ClassDef, code: str) -> cst.ClassDef:
    """``cls`` with a method (source at class-body indentation 0) appended to its body."""
    func = cst.parse_statement(code)
    body = cls.body
    if not isinstance(body, cst.IndentedBlock):
        return cls
    func = func.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    return cls.with_changes(body=body.with_changes(body=[*body.body, func]))


def insert_above(module: cst.Module, anchor: cst.BaseStatement, code: str) -> Edit:
    """An edit adding top-level statements (``code``) above ``anchor``, two blank lines around each definition.

    Done on the module (not with ``insert_before``) so the anchor keeps its own blank lines and comments.
    """
    index = next(i for i, s in enumerate(module.body) if s is anchor)
    parsed = cst.parse_module(code.strip("\n") + "\n").body
    blank = [cst.EmptyLine(), cst.EmptyLine()]
    new = [
        s.with_changes(leading_lines=[*blank, *s.leading_lines]) if i == 0 else s
        for i, s in enumerate(parsed)
    ]

    def _insert(node: cst.CSTNode) -> cst.CSTNode:
        if not isinstance(node, cst.Module):
            return node
        body = list(node.body)
        body[index:index] = new
        return node.with_changes(body=body)

    return Edit(module, replace=_insert)
