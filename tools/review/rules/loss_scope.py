"""Which loss a call computes, resolved per class and per scope (issue 11, class 3).

``self.criterion`` means the ``criterion`` of the class the call sits in (or of its family: the project base
classes it inherits from and the subclasses that fill it in), never another class's attribute of the same
name. A plain name means the binding in the same function or at module level of the same file. A function
alias is a loss too: ``self.loss_func = F.binary_cross_entropy_with_logits``, or a ``functools.partial`` of one.
Problem evidence (classification, multi-label) is read from the same class or file, never project-wide text.
"""

from __future__ import annotations

import libcst as cst

from tools.review.index import Assignment, Call, ClassInfo
from tools.review.project import Project, raw_name


def bound_loss(value: cst.BaseExpression, shorts: set[str]) -> str | None:
    """The loss a bound value computes: ``nn.X(...)`` -> 'X', ``F.x`` -> 'x', ``partial(F.x, ...)`` -> 'x'."""
    if isinstance(value, cst.Call):
        name = raw_name(value.func).rsplit(".", 1)[-1]
        if name in shorts and name[:1].isupper():
            return name
        if name == "partial" and value.args:
            inner = raw_name(value.args[0].value).rsplit(".", 1)[-1]
            return inner if inner in shorts and inner[:1].islower() else None
        return None
    name = raw_name(value).rsplit(".", 1)[-1]
    return name if name in shorts and name[:1].islower() else None


def class_family(project: Project, cls: ClassInfo) -> set[str]:
    """``cls``, the project classes it derives from, and the project classes deriving from it."""
    by_name = {c.name: c for c in project.classes}

    def ancestors(c: ClassInfo, seen: set[str]) -> set[str]:
        out = {c.name}
        for short in c.base_shorts():
            base = by_name.get(short)
            if base is not None and base.name not in seen:
                out |= ancestors(base, seen | out)
        return out

    family = ancestors(cls, set())
    family |= {c.name for c in project.classes if cls.name in ancestors(c, set())}
    return family


def loss_applications(project: Project, shorts: set[str]) -> list[tuple[Call, str]]:
    """Calls that compute one of the losses: functional calls, bound loss objects/aliases, ``nn.X()(a, b)``."""
    bindings: dict[str, list[tuple[Assignment, str, str]]] = {}
    for f in project.files:
        for a in f.assignments:
            short = bound_loss(a.value, shorts)
            if short is not None:
                bindings.setdefault(a.target, []).append((a, short, f.path))
    out: list[tuple[Call, str]] = []
    for call in project.calls:
        if call.short in shorts and call.short[:1].islower() and call.raw not in bindings:
            out.append((call, call.short))
        elif call.raw in bindings:
            short = _resolve(project, call, bindings[call.raw])
            if short is not None:
                out.append((call, short))
        elif isinstance(call.node.func, cst.Call):
            inner = raw_name(call.node.func.func).rsplit(".", 1)[-1]
            if inner in shorts:
                out.append((call, inner))
    return out


def _resolve(project: Project, call: Call, candidates: list[tuple[Assignment, str, str]]) -> str | None:
    if call.raw.startswith("self."):
        if call.cls is None:
            return None
        family = class_family(project, call.cls)
        found = [s for a, s, _ in candidates if a.cls is not None and a.cls.name in family]
        return found[-1] if found else None
    found = [
        s for a, s, path in candidates if path == call.file.path and (a.func is call.func or a.func is None)
    ]
    return found[-1] if found else None


def scope_text(project: Project, call: Call) -> str:
    """Source of the class holding ``call`` (with its project family), else of its file."""
    if call.cls is None:
        return call.file.source
    family = class_family(project, call.cls)
    parts = []
    for f in project.files:
        for cls in f.classes.values():
            if cls.name in family:
                start, _, end, _ = f.range(cls.node)
                parts.append("\n".join(f.lines[start - 1 : end]))
    return "\n".join(parts)


def external_network(project: Project, call: Call) -> str | None:
    """Why the network feeding ``call`` is defined outside the reviewed files, or None (issue 11, class 2).

    A class (or its project family) that builds a sub-network with a call to a module that was not given
    (``self.model = build_model(cfg)``), instantiates one from a config, or derives from a missing base: what
    that network ends in (logits, log-probabilities, a sigmoid) cannot be seen here.
    """
    if call.cls is None:
        return None
    if project.has_foreign_base(call.cls):
        return f"{call.cls.name} derives from a class that was not given"
    family = class_family(project, call.cls)
    for f in project.files:
        for a in f.assignments:
            if a.cls is None or a.cls.name not in family or not a.target.startswith("self."):
                continue
            if not isinstance(a.value, cst.Call):
                continue
            callee = raw_name(a.value.func)
            if project.is_missing(f, callee) or callee.rsplit(".", 1)[-1] == "instantiate":
                return f"{a.target} = {f.code(a.value, 50)} is built by code that was not given"
    return None
