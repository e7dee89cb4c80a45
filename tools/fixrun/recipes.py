"""Repair recipes: one LibCST edit per diagnosis kind, applied with the review engine's fix applier.

Each recipe reads the diagnosis (the frame, the numbers) and the code, and returns the edited files with a
sentence saying what it changed, or ``None`` when it cannot find the place to change (the loop then stops:
no recipe applies). Edits go through ``tools.review.fix.apply_fixes`` (edits keyed by node, formatting and
comments of untouched code kept; a result that would not parse is refused).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from tools.diagnose import Diagnosis
from tools.diagnose import code as facts
from tools.review.fix import apply_fixes, set_kwargs, unified_diff
from tools.review.rules.base import Edit, Fix, replace_with

# The learning rate a recipe sets: safe starting points for each optimizer family.
SAFE_LR = {"SGD": "0.01", "default": "1e-3"}
# torchvision datasets a download recipe can replace with FakeData: (C, H, W), classes.
FAKE_SHAPES = {
    "MNIST": ((1, 28, 28), 10),
    "FashionMNIST": ((1, 28, 28), 10),
    "KMNIST": ((1, 28, 28), 10),
    "EMNIST": ((1, 28, 28), 47),
    "CIFAR10": ((3, 32, 32), 10),
    "CIFAR100": ((3, 32, 32), 100),
    "SVHN": ((3, 32, 32), 10),
    "STL10": ((3, 96, 96), 10),
}
SMOKE_IMAGE_SIZE = 64
# FakeData samples have random labels: a set this small repeats within a smoke run, so a model can fit it and
# its loss can show that it learns.
FAKE_SIZE = 64


@dataclass
class Repair:
    """The outcome of one recipe: the new files, the unified diff and what was changed."""

    recipe: str
    description: str
    files: dict[str, str]
    diff: str
    changed: list[str] = field(default_factory=list)


@dataclass
class _File:
    path: str
    text: str
    module: cst.Module
    lines: dict[cst.CSTNode, int]
    columns: dict[cst.CSTNode, int] = field(default_factory=dict)

    def calls(self) -> Iterator[tuple[cst.Call, int]]:
        for node, line in self.lines.items():
            if isinstance(node, cst.Call):
                yield node, line

    def nodes(self, kind: type[cst.CSTNode]) -> Iterator[tuple[cst.CSTNode, int]]:
        for node, line in self.lines.items():
            if isinstance(node, kind):
                yield node, line


def _parse(files: dict[str, str]) -> dict[str, _File]:
    parsed = {}
    for path, text in files.items():
        if not path.endswith(".py"):
            continue
        try:
            wrapper = MetadataWrapper(cst.parse_module(text), unsafe_skip_copy=True)
        except (cst.ParserSyntaxError, RecursionError, ValueError):
            continue
        positions = wrapper.resolve(PositionProvider)
        parsed[path] = _File(
            path,
            text,
            wrapper.module,
            {n: p.start.line for n, p in positions.items()},
            {n: p.start.column for n, p in positions.items()},
        )
    return parsed


def _name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return ""


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


class _Plan:
    """Fixes collected per file, then applied together."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.parsed = _parse(files)
        self.fixes: dict[str, list[Fix]] = {}
        self.notes: list[str] = []

    def edit(
        self, path: str, node: cst.CSTNode, replace: Callable[[cst.CSTNode], cst.CSTNode], note: str
    ) -> None:
        self.fixes.setdefault(path, []).append(Fix(path, [Edit(node, replace=replace)]))
        self.notes.append(note)

    def insert(self, path: str, stmt: cst.CSTNode, lines: list[str], note: str) -> None:
        self.fixes.setdefault(path, []).append(Fix(path, [Edit(stmt, insert_before=lines)]))
        self.notes.append(note)

    def build(self, recipe: str) -> Repair | None:
        new = dict(self.files)
        for path, fixes in self.fixes.items():
            source = self.parsed[path]
            new[path] = apply_fixes(source.text, source.module, fixes)
        changed = [p for p in self.files if new[p] != self.files[p]]
        if not changed:
            return None
        diff = "".join(unified_diff(p, self.files[p], new[p]) for p in changed)
        return Repair(recipe, "; ".join(self.notes), new, diff, changed)


def _calls(plan: _Plan, short: set[str] | str) -> Iterator[tuple[_File, cst.Call, int]]:
    names = {short} if isinstance(short, str) else short
    for f in plan.parsed.values():
        for node, line in f.calls():
            assert isinstance(node, cst.Call)
            if _name(node.func) in names:
                yield f, node, line


def _frame_line(diagnosis: Diagnosis) -> tuple[str, int] | None:
    return (diagnosis.frames[-1].path, diagnosis.frames[-1].line) if diagnosis.frames else None


# ------------------------------------------------------------------------------------------------ recipes


def set_head_out_features(diagnosis: Diagnosis, plan: _Plan) -> None:
    """The last ``nn.Linear`` whose out_features is a number gets the project's class count instead."""
    consts = facts.constants(plan.files)
    for f in plan.parsed.values():
        linears = [(n, line) for n, line in f.calls() if _name(n.func) == "Linear" and len(n.args) >= 2]
        if not linears:
            continue
        head, line = max(linears, key=lambda item: (item[1], f.columns.get(item[0], 0)))
        assert isinstance(head, cst.Call)
        out = head.args[1].value
        if not isinstance(out, cst.Integer):
            continue
        name = next((k for k in consts if "CLASS" in k.upper() and isinstance(consts[k], int)), None)
        expr = name
        if expr is None and "self.num_classes" in f.text:
            expr = "self.num_classes"
        if expr is None:
            continue
        new_arg = head.args[1].with_changes(value=cst.parse_expression(expr))
        args = [*head.args[:1], new_arg, *head.args[2:]]
        plan.edit(f.path, head, replace_with(head.with_changes(args=args)),
                  f"{f.path}:{line}: the head's out_features {out.value} -> {expr}")  # fmt: skip
        return


def fix_linear_in_features(diagnosis: Diagnosis, plan: _Plan) -> None:
    """The ``nn.Linear(expected, out)`` of the error gets the feature count the input really has."""
    numbers = next((e.numbers for e in diagnosis.evidence if "got_features" in e.numbers), None)
    if numbers is None:
        return
    got, expected, out = numbers["got_features"], numbers["expected_features"], numbers["out_features"]
    consts = facts.constants(plan.files)
    import ast

    for f, node, line in _calls(plan, "Linear"):
        if len(node.args) < 2:
            continue
        values = []
        for arg in node.args[:2]:
            try:
                values.append(facts.evaluate(ast.parse(_code(arg.value), mode="eval").body, consts))
            except SyntaxError:
                values.append(None)
        if values == [expected, out]:
            new = node.with_changes(
                args=[node.args[0].with_changes(value=cst.Integer(str(got))), *node.args[1:]]
            )
            plan.edit(f.path, node, replace_with(new),
                      f"{f.path}:{line}: Linear in_features {_code(node.args[0].value)} -> {got}")  # fmt: skip
            return


def _loss_call(diagnosis: Diagnosis, plan: _Plan) -> tuple[_File, cst.Call, int] | None:
    """The loss call on the failing frame's line (the innermost call with two or more arguments there)."""
    where = _frame_line(diagnosis)
    if where is None:
        return None
    f = plan.parsed.get(where[0])
    if f is None:
        return None
    candidates = [
        (n, line)
        for n, line in f.calls()
        if line == where[1] and len(n.args) >= 2 and "loss" in _code(n.func).lower() + _name(n.func).lower()
    ]
    candidates = candidates or [(n, line) for n, line in f.calls() if line == where[1] and len(n.args) >= 2]
    if not candidates:
        return None
    node, line = candidates[0]
    assert isinstance(node, cst.Call)
    return f, node, line


def _with_target(call: cst.Call, wrap: Callable[[str], str]) -> tuple[cst.Call, str] | None:
    args = list(call.args)
    index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == "target"), 1)
    if index >= len(args):
        return None
    old = _code(args[index].value)
    args[index] = args[index].with_changes(value=cst.parse_expression(wrap(old)))
    return call.with_changes(args=args), old


def _atom(expr: str) -> str:
    return expr if expr.replace("_", "").replace(".", "").isalnum() or expr.endswith(")") else f"({expr})"


def cast_labels(diagnosis: Diagnosis, plan: _Plan) -> None:
    """Targets get ``.long()`` (class-index losses) or ``.float()`` (BCE, MSE) where the loss is computed."""
    found = _loss_call(diagnosis, plan)
    if found is None:
        return
    f, node, line = found
    want = "float" if "needs float" in diagnosis.title else "long"
    edited = _with_target(node, lambda old: f"{_atom(old)}.{want}()")
    if edited is not None:
        plan.edit(
            f.path, node, replace_with(edited[0]), f"{f.path}:{line}: the target {edited[1]} -> .{want}()"
        )


def reshape_labels(diagnosis: Diagnosis, plan: _Plan) -> None:
    """Targets get the shape the loss wants: the input's shape for BCE, ``[B]`` for class indices."""
    import re

    found = _loss_call(diagnosis, plan)
    if found is None:
        return
    f, node, line = found
    m = re.search(r"input size \(torch\.Size\(\[(?P<dims>[\d, ]*)\]\)\)", diagnosis.error or "")
    if m:
        dims = [d.strip() for d in m["dims"].split(",") if d.strip()]
        shape = ", ".join(["-1", *dims[1:]])
        edited = _with_target(node, lambda old: f"{_atom(old)}.view({shape})")
    else:
        edited = _with_target(node, lambda old: f"{_atom(old)}.view(-1)")
    if edited is not None:
        plan.edit(f.path, node, replace_with(edited[0]), f"{f.path}:{line}: the target {edited[1]} reshaped")


def remove_probability_activation(diagnosis: Diagnosis, plan: _Plan) -> None:
    """``return torch.softmax(x, dim=1)`` in forward (or inside the loss call) becomes ``return x``."""
    targets = {(p.path, p.line) for p in facts.probability_into_logits_loss(plan.files)}
    for f in plan.parsed.values():
        for node, line in f.calls():
            assert isinstance(node, cst.Call)
            if (f.path, line) in targets and _name(node.func) in facts.PROB_ACTIVATIONS and node.args:
                inner = node.args[0].value
                plan.edit(f.path, node, replace_with(inner),
                          f"{f.path}:{line}: {_code(node)} -> {_code(inner)} (the loss applies it itself)")  # fmt: skip


def clamp_log(diagnosis: Diagnosis, plan: _Plan) -> None:
    """``torch.log(p)`` -> ``torch.log(p.clamp_min(1e-7))``: log of 0 is -inf."""
    lines = {(p.path, p.line) for p in facts.unguarded_logs(plan.files)}
    for f, node, line in _calls(plan, "log"):
        if (f.path, line) in lines and node.args:
            arg = _code(node.args[0].value)
            new = node.with_changes(
                args=[node.args[0].with_changes(value=cst.parse_expression(f"{_atom(arg)}.clamp_min(1e-7)"))]
            )
            plan.edit(
                f.path,
                node,
                replace_with(new),
                f"{f.path}:{line}: log({arg}) -> log({_atom(arg)}.clamp_min(1e-7))",
            )


def set_lr(diagnosis: Diagnosis, plan: _Plan) -> None:
    """The learning rate behind the optimizer gets a safe value (1e-3 adaptive, 1e-2 SGD)."""
    for place in facts.learning_rates(plan.files):
        value, optimizer = facts.lr_of(place)
        if diagnosis.kind != "lr_too_low" and value < 1e-2:
            continue
        if diagnosis.kind == "lr_too_low" and value > 1e-6:
            continue
        new_value = SAFE_LR.get(optimizer, SAFE_LR["default"])
        f = plan.parsed.get(place.path)
        if f is None:
            continue
        for node, line in f.nodes(cst.Float):
            if line == place.line and _number_is(node, value):
                plan.edit(
                    f.path,
                    node,
                    replace_with(cst.Float(new_value)),
                    f"{f.path}:{line}: lr {value:g} -> {new_value}",
                )
                return
        for node, line in f.nodes(cst.Integer):
            if line == place.line and _number_is(node, value):
                plan.edit(
                    f.path,
                    node,
                    replace_with(cst.Float(new_value)),
                    f"{f.path}:{line}: lr {value:g} -> {new_value}",
                )
                return


def _number_is(node: cst.CSTNode, value: float) -> bool:
    if not isinstance(node, cst.Integer | cst.Float):
        return False
    return float(node.evaluated_value) == value


def unfreeze(diagnosis: Diagnosis, plan: _Plan) -> None:
    """``requires_grad = False`` -> ``True`` and ``requires_grad_(False)`` -> ``requires_grad_(True)``."""
    lines = {(p.path, p.line) for p in facts.frozen_parameters(plan.files)}
    for f in plan.parsed.values():
        for node, line in f.nodes(cst.Name):
            assert isinstance(node, cst.Name)
            if node.value == "False" and (f.path, line) in lines:
                plan.edit(
                    f.path,
                    node,
                    replace_with(cst.Name("True")),
                    f"{f.path}:{line}: parameters trainable again",
                )


def optimizer_all_params(diagnosis: Diagnosis, plan: _Plan) -> None:
    """The optimizer gets the whole model's parameters (``self`` in a LightningModule, else the model)."""
    import re

    lines = {(p.path, p.line) for p in facts.optimizer_param_sources(plan.files)}
    for f, node, line in _calls(plan, facts.OPTIMIZERS):
        if (f.path, line) not in lines or not node.args:
            continue
        if "LightningModule" in f.text and "self" in _code(node.args[0].value):
            owner = "self"
        else:
            classes = set(re.findall(r"^class (\w+)\(nn\.Module\)", f.text, re.M))
            owners = (
                [m[0] for m in re.findall(r"^\s*(\w+) = (\w+)\(", f.text, re.M) if m[1] in classes]
                if classes
                else []
            )
            owners = [o for o, cls in re.findall(r"^\s*(\w+) = (\w+)\(", f.text, re.M) if cls in classes]
            if not owners:
                continue
            owner = owners[0]
        old = _code(node.args[0].value)
        new = node.with_changes(
            args=[
                node.args[0].with_changes(value=cst.parse_expression(f"{owner}.parameters()")),
                *node.args[1:],
            ]
        )
        plan.edit(
            f.path, node, replace_with(new), f"{f.path}:{line}: optimizer over {old} -> {owner}.parameters()"
        )


def add_zero_grad(diagnosis: Diagnosis, plan: _Plan) -> None:
    """``<optimizer>.zero_grad()`` inserted before the backward call (the optimizer whose ``step`` is called)."""
    for f in plan.parsed.values():
        steppers = [
            _code(n.func.value)
            for n, _ in f.calls()
            if _name(n.func) == "step" and isinstance(n.func, cst.Attribute)
        ]
        if not steppers:
            continue
        for stmt, line in f.nodes(cst.SimpleStatementLine):
            text = _code(stmt)
            if ".backward(" in text or "manual_backward(" in text:
                plan.insert(f.path, stmt, [f"{steppers[0]}.zero_grad()"],
                            f"{f.path}:{line}: {steppers[0]}.zero_grad() before the backward")  # fmt: skip
                return


SMOKE_BATCH = 32


def reduce_batch_size(diagnosis: Diagnosis, plan: _Plan) -> None:
    """A smoke run needs only a small batch: numeric batch sizes above 32 become 32 (smaller ones are halved),
    and large input-size constants shrink too (activation memory and step time grow with H x W)."""
    places = {(p.path, p.line): p.value for p in facts.batch_sizes(plan.files)}
    for f in plan.parsed.values():
        for node, line in f.nodes(cst.Integer):
            assert isinstance(node, cst.Integer)
            value = places.get((f.path, line))
            if isinstance(value, int) and node.evaluated_value == value and value > 1:
                new = SMOKE_BATCH if value > SMOKE_BATCH else max(1, value // 2)
                plan.edit(
                    f.path,
                    node,
                    replace_with(cst.Integer(str(new))),
                    f"{f.path}:{line}: batch size {value} -> {new}",
                )
    shrink_inputs(diagnosis, plan)


def shrink_inputs(diagnosis: Diagnosis, plan: _Plan) -> None:
    """Large input-size constants (``IMAGE_SIZE = 768``) become 64 for the smoke run."""
    places = {(p.path, p.line): p.value for p in facts.size_constants(plan.files)}
    for f in plan.parsed.values():
        for node, line in f.nodes(cst.Integer):
            assert isinstance(node, cst.Integer)
            value = places.get((f.path, line))
            if value is not None and node.evaluated_value == value:
                plan.edit(f.path, node, replace_with(cst.Integer(str(SMOKE_IMAGE_SIZE))),
                          f"{f.path}:{line}: input size {value} -> {SMOKE_IMAGE_SIZE} for the smoke run")  # fmt: skip


def offline_data(diagnosis: Diagnosis, plan: _Plan) -> None:
    """No network: ``pretrained=True`` -> False, ``weights=...`` -> None, a torchvision dataset -> FakeData."""
    for f in plan.parsed.values():
        for node, line in f.calls():
            keywords = {a.keyword.value: a for a in node.args if a.keyword is not None}
            name = _name(node.func)
            if name in FAKE_SHAPES and "download" in keywords:
                shape, classes = FAKE_SHAPES[name]
                transform = keywords.get("transform")
                args = f"size={FAKE_SIZE}, image_size={shape}, num_classes={classes}"
                if transform is not None:
                    args += f", transform={_code(transform.value)}"
                module = _code(node.func.value) + "." if isinstance(node.func, cst.Attribute) else ""
                new = cst.parse_expression(f"{module}FakeData({args})")
                plan.edit(f.path, node, replace_with(new),
                          f"{f.path}:{line}: {name}(download=True) -> synthetic FakeData{shape} for the smoke run")  # fmt: skip
                continue
            if "pretrained" in keywords and _code(keywords["pretrained"].value) == "True":
                plan.edit(f.path, node, lambda n: set_kwargs(n, [("pretrained", "False")]) if isinstance(n, cst.Call) else n,
                          f"{f.path}:{line}: pretrained=True -> False (no weights download in the sandbox)")  # fmt: skip
            elif "weights" in keywords and _code(keywords["weights"].value) != "None":
                plan.edit(f.path, node, lambda n: set_kwargs(n, [("weights", "None")]) if isinstance(n, cst.Call) else n,
                          f"{f.path}:{line}: weights={_code(keywords['weights'].value)} -> None (no download)")  # fmt: skip


def drop_unused_import(diagnosis: Diagnosis, plan: _Plan) -> None:
    """An import of the missing package that nothing uses is removed."""
    package = next((e.numbers.get("package") for e in diagnosis.evidence if "package" in e.numbers), None)
    if not isinstance(package, str):
        return
    lines = {(p.path, p.line) for p in facts.imports_of(plan.files, package) if p.value is True}
    for f in plan.parsed.values():
        for stmt, line in f.nodes(cst.SimpleStatementLine):
            if (f.path, line) in lines:
                plan.edit(f.path, stmt, lambda _n: cst.RemovalSentinel.REMOVE,  # type: ignore[arg-type,return-value]
                          f"{f.path}:{line}: removed the unused import of {package}")  # fmt: skip


RECIPES: dict[str, Callable[[Diagnosis, _Plan], None]] = {
    "set_head_out_features": set_head_out_features,
    "fix_linear_in_features": fix_linear_in_features,
    "cast_labels": cast_labels,
    "reshape_labels": reshape_labels,
    "remove_probability_activation": remove_probability_activation,
    "clamp_log": clamp_log,
    "set_lr": set_lr,
    "unfreeze": unfreeze,
    "optimizer_all_params": optimizer_all_params,
    "add_zero_grad": add_zero_grad,
    "reduce_batch_size": reduce_batch_size,
    "shrink_inputs": shrink_inputs,
    "offline_data": offline_data,
    "drop_unused_import": drop_unused_import,
}


def repair(diagnosis: Diagnosis, files: dict[str, str]) -> Repair | None:
    """Apply the diagnosis's recipe to a copy of ``files``; None when there is none or it changes nothing."""
    if diagnosis.recipe is None or diagnosis.recipe not in RECIPES:
        return None
    plan = _Plan(dict(files))
    RECIPES[diagnosis.recipe](diagnosis, plan)
    return plan.build(diagnosis.recipe)
