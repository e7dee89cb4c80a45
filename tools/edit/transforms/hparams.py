"""Optimizer class / learning rate / weight decay, and the batch size, changed where they are defined.

A value read from a config (``self.hparams.lr``, ``self.config.batch_size``) is changed at its default (a
parameter default, a config-class field) so it stays configurable; a literal is replaced in place.
"""

from __future__ import annotations

import libcst as cst

from tools.edit.models import BatchSizeEdit, OptimizerEdit
from tools.edit.source import Project, SourceFile, dotted_name, kwarg, literal, methods
from tools.edit.transforms.common import Outcome, setting_kwargs
from tools.review.fix import set_kwargs
from tools.review.rules.base import Edit, replace_with

#: Keyword arguments each torch.optim class accepts (torch 2.x), so a switch drops the ones the new one lacks.
ACCEPTS: dict[str, set[str]] = {
    "SGD": {
        "lr",
        "momentum",
        "dampening",
        "weight_decay",
        "nesterov",
        "maximize",
        "foreach",
        "differentiable",
        "fused",
    },
    "Adam": {
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "maximize",
        "foreach",
        "capturable",
        "differentiable",
        "fused",
        "decoupled_weight_decay",
    },
    "AdamW": {
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "maximize",
        "foreach",
        "capturable",
        "differentiable",
        "fused",
    },
    "RMSprop": {
        "lr",
        "alpha",
        "eps",
        "weight_decay",
        "momentum",
        "centered",
        "capturable",
        "foreach",
        "maximize",
        "differentiable",
    },
    "Adagrad": {
        "lr",
        "lr_decay",
        "weight_decay",
        "initial_accumulator_value",
        "eps",
        "foreach",
        "maximize",
        "differentiable",
        "fused",
    },
    "Adamax": {"lr", "betas", "eps", "weight_decay", "foreach", "maximize", "differentiable", "capturable"},
    "NAdam": {
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "momentum_decay",
        "decoupled_weight_decay",
        "foreach",
        "maximize",
        "capturable",
        "differentiable",
    },
    "RAdam": {
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "decoupled_weight_decay",
        "foreach",
        "maximize",
        "capturable",
        "differentiable",
    },
}


def _optimizer_calls(project: Project) -> list[tuple[SourceFile, cst.Call, str]]:
    found = []
    for f, cls in project.lightning_modules():
        conf = methods(cls).get("configure_optimizers")
        for site in f.calls:
            short = site.qual.split(".")[-1]
            if (
                site.func is conf
                and conf is not None
                and short in ACCEPTS
                and (
                    site.qual.startswith("torch.optim")
                    or "." not in site.qual
                    or site.qual.startswith("optim.")
                )
            ):
                found.append((f, site.node, short))
    return found


def _field_default(project: Project, attr: str) -> list[tuple[SourceFile, cst.CSTNode, cst.BaseExpression]]:
    """Where ``attr`` gets its default: ``def __init__(self, lr=1e-3)``, ``lr: float = 3e-4``, ``Field(default=...)``.

    Returns (file, node to replace, the current value) for literal defaults only.
    """
    found: list[tuple[SourceFile, cst.CSTNode, cst.BaseExpression]] = []
    for f in project.files.values():
        f.module.visit(_Defaults(f, attr, found))
    return found


class _Defaults(cst.CSTVisitor):
    def __init__(
        self, f: SourceFile, attr: str, found: list[tuple[SourceFile, cst.CSTNode, cst.BaseExpression]]
    ) -> None:
        super().__init__()
        self.f, self.attr, self.found = f, attr, found

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == self.attr and node.default is not None and literal(node.default) is not ...:
            self.found.append((self.f, node.default, node.default))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if dotted_name(node.target) in (self.attr, f"self.{self.attr}") and node.value is not None:
            self._value(node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        names = (self.attr, self.attr.upper(), f"self.{self.attr}")
        if any(dotted_name(t.target) in names for t in node.targets):
            self._value(node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if isinstance(node.key, cst.SimpleString) and node.key.evaluated_value == self.attr:
            self._value(node.value)

    def _value(self, value: cst.BaseExpression) -> None:
        if literal(value) is not ... and not isinstance(literal(value), bool):
            self.found.append((self.f, value, value))
        elif isinstance(value, cst.Call) and dotted_name(value.func).split(".")[-1] == "Field":
            default = kwarg(value, "default")
            if default is not None and literal(default.value) is not ...:
                self.found.append((self.f, default.value, default.value))


def _number(value: float) -> str:
    text = repr(value)
    if "e" not in text and value < 1e-2:
        text = f"{value:.0e}".replace("e-0", "e-")
    return text


def optimizer(spec: OptimizerEdit, project: Project) -> Outcome:
    out = Outcome()
    calls = _optimizer_calls(project)
    if not calls:
        out.skipped.append(
            "optimizer: no torch.optim optimizer found in a configure_optimizers of a LightningModule"
        )
        return out
    for f, call, short in calls:
        pairs: list[tuple[str, float]] = []
        if spec.lr is not None:
            pairs.append(("lr", spec.lr))
        if spec.weight_decay is not None:
            pairs.append(("weight_decay", spec.weight_decay))
        new_name = spec.name or short
        accepts = ACCEPTS[new_name]
        dropped: list[str] = []
        set_direct: list[tuple[str, str]] = []
        for key, value in pairs:
            arg = kwarg(call, key)
            positional = (
                call.args[1] if key == "lr" and len(call.args) > 1 and call.args[1].keyword is None else None
            )
            current = arg.value if arg is not None else positional.value if positional is not None else None
            if current is not None and literal(current) is ...:
                attr = dotted_name(current).split(".")[-1]
                defaults = _field_default(project, attr) if attr else []
                if len(defaults) == 1:
                    df, node, old = defaults[0]
                    out.edit(df.path, Edit(node, replace=replace_with(cst.parse_expression(_number(value)))))
                    out.applied.append(
                        f"{df.where(node)}: the default of {attr} is now {_number(value)} (was {df.code(old)}); "
                        f"the optimizer reads it as {f.code(current)}"
                    )
                    continue
            if positional is not None and arg is None:
                out.edit(
                    f.path, Edit(positional.value, replace=replace_with(cst.parse_expression(_number(value))))
                )
                out.applied.append(
                    f"{f.where(call)}: {key}={_number(value)} (was {f.code(positional.value)})"
                )
                continue
            set_direct.append((key, _number(value)))
        if spec.name is not None and spec.name != short:
            for a in call.args[1:]:
                if a.keyword is not None and a.keyword.value not in accepts:
                    dropped.append(a.keyword.value)
                elif a.keyword is None and a is not call.args[1]:
                    dropped.append(f.code(a.value))
        if set_direct or dropped or (spec.name and spec.name != short):
            old_code = f.code(call)

            def _change(
                n: cst.CSTNode,
                name: str = new_name,
                drop: list[str] = dropped,
                sets: list[tuple[str, str]] = set_direct,
                old: str = short,
            ) -> cst.CSTNode:
                if not isinstance(n, cst.Call):
                    return n
                args = [
                    a
                    for i, a in enumerate(n.args)
                    if not (
                        (a.keyword is not None and a.keyword.value in drop) or (a.keyword is None and i > 1)
                    )
                ]
                if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT and len(args) < len(n.args):
                    args[-1] = args[-1].with_changes(comma=n.args[-1].comma)
                func = n.func
                if name != old:
                    func = (
                        cst.Attribute(value=func.value, attr=cst.Name(name))
                        if isinstance(func, cst.Attribute)
                        else cst.parse_expression(f"torch.optim.{name}")
                    )
                updated = n.with_changes(func=func, args=args)
                return set_kwargs(updated, sets) if sets else updated

            imports = [("torch", None, None)] if spec.name and isinstance(call.func, cst.Name) else []
            out.edit(f.path, Edit(call, replace=_change), imports)
            what = []
            if spec.name and spec.name != short:
                what.append(f"{short} -> {spec.name}")
            what += [f"{k}={v}" for k, v in set_direct]
            note = f" (dropped {', '.join(dropped)}: {spec.name} has no such argument)" if dropped else ""
            out.applied.append(
                f"{f.where(call)}: optimizer {', '.join(what)}{note}; was {old_code.splitlines()[0]}"
            )
        if spec.name == "SGD" and short != "SGD" and spec.lr is None:
            out.applied.append(
                "SGD usually needs a larger learning rate than Adam (e.g. 0.01-0.1 with momentum=0.9)"
            )
    return out


def batch_size(spec: BatchSizeEdit, project: Project) -> Outcome:
    out = Outcome()
    defaults = _field_default(project, "batch_size")
    done: set[int] = set()
    for f, node, old in defaults:
        if isinstance(literal(old), int):
            done.add(id(node))
            if literal(old) == spec.value:
                out.applied.append(f"{f.where(node)}: batch_size is already {spec.value} (unchanged)")
                continue
            out.edit(f.path, Edit(node, replace=replace_with(cst.Integer(str(spec.value)))))
            out.applied.append(f"{f.where(node)}: batch_size {f.code(old)} -> {spec.value}")
    for f, site in project.calls_named("DataLoader"):
        arg = kwarg(site.node, "batch_size")
        positional = (
            site.node.args[1] if len(site.node.args) > 1 and site.node.args[1].keyword is None else None
        )
        value = arg.value if arg is not None else positional.value if positional is not None else None
        if value is not None and isinstance(literal(value), int) and id(value) not in done:
            out.edit(f.path, Edit(value, replace=replace_with(cst.Integer(str(spec.value)))))
            out.applied.append(f"{f.where(value)}: DataLoader batch_size {f.code(value)} -> {spec.value}")
        elif value is None and not out.fixes and site.node.args and not any(a.star for a in site.node.args):
            out.edit(
                f.path,
                Edit(
                    site.node,
                    replace=setting_kwargs([("batch_size", str(spec.value))]),
                ),
            )
            out.applied.append(
                f"{f.where(site.node)}: DataLoader(...) now has batch_size={spec.value} (it used the default 1)"
            )
    if not out.fixes and not out.applied:
        out.skipped.append(
            "batch size: no batch_size default, constant or DataLoader(batch_size=...) literal found in the code"
        )
    elif out.fixes:
        out.applied.append(
            "with a larger batch, consider scaling the learning rate (linear rule for SGD, sqrt for Adam)"
        )
    return out
