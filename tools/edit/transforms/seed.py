"""Seeding: ``seed_everything(seed, workers=True)`` before the model, data and Trainer are built."""

from __future__ import annotations

import libcst as cst

from tools.edit.models import SeedEdit
from tools.edit.source import Project, SourceFile
from tools.edit.transforms.common import NO_TRAINER, Outcome
from tools.review.fix import set_kwargs
from tools.review.rules.base import Edit


def _seed_name(f: SourceFile, project: Project) -> tuple[str, tuple[str, str | None, str | None] | None]:
    for qual in (
        "lightning.seed_everything",
        "lightning.pytorch.seed_everything",
        "pytorch_lightning.seed_everything",
    ):
        local = f.local_name(qual)
        if local:
            return local, None
    return "seed_everything", (project.lightning, "seed_everything", None)


def seed(spec: SeedEdit, project: Project) -> Outcome:
    out = Outcome()
    existing = project.calls_named("seed_everything")
    if existing:
        for f, site in existing:
            call = site.node
            first = call.args[0] if call.args and call.args[0].keyword is None else None

            def _set(n: cst.CSTNode, s: int = spec.seed) -> cst.CSTNode:
                if not isinstance(n, cst.Call):
                    return n
                args = list(n.args)
                if args and args[0].keyword is None:
                    args[0] = args[0].with_changes(value=cst.Integer(str(s)))
                    n = n.with_changes(args=args)
                    return set_kwargs(n, [("workers", "True")])
                return set_kwargs(n, [("seed", str(s)), ("workers", "True")])

            out.edit(f.path, Edit(call, replace=_set))
            was = f" (was {f.code(first.value)})" if first is not None else ""
            out.applied.append(
                f"{f.where(call)}: seed_everything now seeds {spec.seed} with workers=True{was}"
            )
        return out
    trainers = project.trainer_calls()
    if not trainers:
        modules = project.lightning_modules()
        if not modules:
            out.skipped.append(
                f"seeding: {NO_TRAINER}; call torch.manual_seed({spec.seed}) where the script starts"
            )
            return out
        # A module on its own: seed when the file is imported, before anything builds the model or the data.
        f = modules[0][0]
        anchor = _anchor(f, None) or _first_definition(f)
        if anchor is None:
            out.skipped.append(f"seeding: no statement in {f.path} to put the seed above")
            return out
        name, imp = _seed_name(f, project)
        out.edit(
            f.path, Edit(anchor, insert_before=[f"{name}({spec.seed}, workers=True)"]), [imp] if imp else []
        )
        out.applied.append(
            f"{f.where(anchor)}: added {name}({spec.seed}, workers=True) after the imports (there is no Trainer "
            "in the code: it runs when the file is imported, before the model and data are built)"
        )
        return out
    done: set[int] = set()
    for f, site in trainers:
        anchor = _anchor(f, site.block)
        if anchor is None or id(anchor) in done:
            continue
        done.add(id(anchor))
        name, imp = _seed_name(f, project)
        out.edit(
            f.path, Edit(anchor, insert_before=[f"{name}({spec.seed}, workers=True)"]), [imp] if imp else []
        )
        out.applied.append(
            f"{f.where(anchor)}: added {name}({spec.seed}, workers=True) above this statement, before the model and data are built"
        )
    return out


def _anchor(f: SourceFile, block: cst.Module | cst.IndentedBlock | None) -> cst.BaseStatement | None:
    """The first statement of the block holding the Trainer (a function, ``if __name__ == "__main__":``, the
    module), after its docstring and imports, and never a class or function definition."""
    body = block.body if block is not None else f.module.body
    for stmt in body:
        if _is_docstring(stmt) or isinstance(stmt, cst.ClassDef | cst.FunctionDef):
            continue
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, cst.Import | cst.ImportFrom) for s in stmt.body
        ):
            continue
        return stmt
    return None


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _first_definition(f: SourceFile) -> cst.BaseStatement | None:
    """The first class or function definition of a module (where a file of definitions has its first code)."""
    return next((stmt for stmt in f.module.body if isinstance(stmt, cst.ClassDef | cst.FunctionDef)), None)
