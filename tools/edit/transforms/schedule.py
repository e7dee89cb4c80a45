"""Linear warm-up + cosine decay in ``configure_optimizers``, stepped every optimizer step."""

from __future__ import annotations

import re

import libcst as cst

from tools.edit.models import CosineScheduleEdit
from tools.edit.source import Project, SourceFile, methods
from tools.edit.transforms.common import Outcome, with_body
from tools.review.rules.base import Edit


def _returns(func: cst.FunctionDef) -> list[cst.Return]:
    found: list[cst.Return] = []

    class _V(cst.CSTVisitor):
        def visit_Return(self, node: cst.Return) -> None:
            found.append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is func

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

    func.visit(_V())
    return found


def _names(node: cst.BaseExpression | None) -> list[str]:
    if isinstance(node, cst.Name):
        return [node.value]
    if isinstance(node, cst.Dict):
        return [n for el in node.elements if isinstance(el, cst.DictElement) for n in _names(el.value)]
    if isinstance(node, cst.List | cst.Tuple):
        return [n for el in node.elements for n in _names(el.value)]
    return []


def _split(value: cst.BaseExpression | None) -> tuple[cst.BaseExpression | None, list[str], str] | None:
    """(optimizer expression, names of the old scheduler objects, what the old return had); None: too complex."""
    if value is None:
        return None
    if isinstance(value, cst.Dict):
        opt: cst.BaseExpression | None = None
        old: list[str] = []
        had = "no scheduler"
        for el in value.elements:
            if not isinstance(el, cst.DictElement) or not isinstance(el.key, cst.SimpleString):
                return None
            key = el.key.evaluated_value
            if key == "optimizer":
                opt = el.value
            elif key == "lr_scheduler":
                old = _names(el.value)
                had = "a scheduler"
        return (opt, old, had) if opt is not None else None
    if isinstance(value, cst.Tuple | cst.List):
        items = [el.value for el in value.elements]
        if len(items) == 2 and all(isinstance(i, cst.List | cst.Tuple) for i in items):
            opts = items[0].elements  # type: ignore[attr-defined]
            if len(opts) != 1:
                return None
            return opts[0].value, _names(items[1]), "a scheduler"
        if len(items) == 1:
            return items[0], [], "no scheduler"
        return None
    if isinstance(value, cst.Name | cst.Call):
        return value, [], "no scheduler"
    return None


def cosine_schedule(spec: CosineScheduleEdit, project: Project) -> Outcome:
    out = Outcome()
    modules = project.lightning_modules()
    if not modules:
        out.skipped.append("cosine schedule: no LightningModule found in the code")
        return out
    for f, cls in modules:
        conf = methods(cls).get("configure_optimizers")
        if conf is None:
            out.skipped.append(
                f"cosine schedule: {cls.name.value} ({f.where(cls)}) has no configure_optimizers"
            )
            continue
        _rewrite(spec, f, cls, conf, out)
    return out


def _rewrite(
    spec: CosineScheduleEdit, f: SourceFile, cls: cst.ClassDef, conf: cst.FunctionDef, out: Outcome
) -> None:
    body = conf.body
    returns = _returns(conf)
    last = body.body[-1] if isinstance(body, cst.IndentedBlock) and body.body else None
    ret = last.body[0] if isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1 else None
    if len(returns) != 1 or not isinstance(ret, cst.Return) or ret is not returns[0]:
        out.skipped.append(
            f"cosine schedule: {f.where(conf)}: configure_optimizers does not end in one return; "
            "edit it by hand (return {'optimizer': opt, 'lr_scheduler': {'scheduler': sched, 'interval': 'step'}})"
        )
        return
    split = _split(ret.value)
    if split is None or split[0] is None:
        out.skipped.append(
            f"cosine schedule: {f.where(ret)}: the return of configure_optimizers is not one optimizer "
            "(several optimizers, or a form this edit does not rewrite)"
        )
        return
    opt_expr, old_names, had = split
    assert isinstance(body, cst.IndentedBlock)
    kept: list[cst.BaseStatement] = []
    dropped: list[str] = []
    others = [s for s in body.body[:-1]]
    for stmt in others:
        target = _assigned_name(stmt)
        if target in old_names:
            rest = "".join(f.code(s) for s in others if s is not stmt)
            if not re.search(rf"\b{re.escape(target)}\b", rest):
                dropped.append(f.code(stmt).strip())
                continue
        kept.append(stmt)
    lines: list[str] = []
    if isinstance(opt_expr, cst.Name):
        opt = opt_expr.value
    elif opt_expr is not None:
        opt = "optimizer"
        lines.append(f"optimizer = {f.code(opt_expr)}")
    kept_code = "".join(f.code(s) for s in kept)
    sched = next(
        n for n in ("scheduler", "lr_schedule", "warmup_cosine") if not re.search(rf"\b{n}\b", kept_code)
    )
    lines.append("total_steps = int(self.trainer.estimated_stepping_batches)")
    if spec.warmup_steps == 0:
        lines.append(
            f"{sched} = torch.optim.lr_scheduler.CosineAnnealingLR({opt}, T_max=max(1, total_steps))"
        )
        what = "cosine decay over all training steps (no warm-up)"
    else:
        warm = str(spec.warmup_steps) if spec.warmup_steps is not None else "max(1, total_steps // 20)"
        lines.append(f"warmup_steps = {warm}")
        lines.append(
            f"{sched} = torch.optim.lr_scheduler.SequentialLR(\n"
            f"    {opt},\n"
            "    schedulers=[\n"
            f"        torch.optim.lr_scheduler.LinearLR({opt}, start_factor=0.01, total_iters=warmup_steps),\n"
            f"        torch.optim.lr_scheduler.CosineAnnealingLR({opt}, T_max=max(1, total_steps - warmup_steps)),\n"
            "    ],\n"
            "    milestones=[warmup_steps],\n"
            ")"
        )
        what = (
            f"linear warm-up over {spec.warmup_steps} steps"
            if spec.warmup_steps is not None
            else "linear warm-up over the first 5% of steps"
        ) + ", then cosine decay to 0"
    lines.append(
        f'return {{"optimizer": {opt}, "lr_scheduler": {{"scheduler": {sched}, "interval": "step"}}}}'
    )
    new_stmts = [cst.parse_statement(line + "\n") for line in lines]
    new_body = body.with_changes(body=[*kept, *new_stmts])
    out.edit(
        f.path,
        Edit(
            conf,
            replace=with_body(new_body),
        ),
        [("torch", None, None)],
    )
    out.applied.append(
        f"{f.where(conf)}: {cls.name.value}.configure_optimizers now uses {what} "
        "(SequentialLR of LinearLR and CosineAnnealingLR, stepped every optimizer step, "
        "total steps from self.trainer.estimated_stepping_batches)"
    )
    if had != "no scheduler":
        replaced = "; ".join(dropped) if dropped else f.code(ret).strip()
        out.applied.append(f"{f.where(ret)}: it replaces the previous scheduler ({replaced})")


def _assigned_name(stmt: cst.BaseStatement) -> str:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            return small.targets[0].target.value
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            return small.target.value
    return ""
