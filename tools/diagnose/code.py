"""Facts read from the submitted code (with ``ast``), used as evidence next to the run's numbers.

The run says *what* happened (a NaN at step 3, a flat loss); the code says *which line* makes it so (the
learning rate, the frozen parameters, the softmax before a logits loss). Each finder returns the places with
file and line, so the diagnosis can cite them and the repair can edit them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

OPTIMIZERS = {"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"}
LOGITS_LOSSES = {"cross_entropy", "CrossEntropyLoss", "binary_cross_entropy_with_logits", "BCEWithLogitsLoss"}
PROB_ACTIVATIONS = {"softmax", "sigmoid", "Softmax", "Sigmoid"}
SIZE_NAMES = ("IMAGE_SIZE", "IMG_SIZE", "INPUT_SIZE", "RESOLUTION", "IMAGE_RES", "SIZE")


@dataclass
class Place:
    """A place in the code: file, line, the source of the line and an optional value."""

    path: str
    line: int
    code: str
    value: object = None


def _parse(files: dict[str, str]) -> dict[str, tuple[ast.Module, list[str]]]:
    trees = {}
    for path, text in files.items():
        if not path.endswith(".py"):
            continue
        try:
            trees[path] = (ast.parse(text), text.splitlines())
        except SyntaxError:
            continue
    return trees


def _short(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _place(path: str, lines: list[str], node: ast.AST, value: object = None) -> Place:
    line = getattr(node, "lineno", 1)
    return Place(path, line, lines[line - 1].strip() if 0 < line <= len(lines) else "", value)


def constants(files: dict[str, str]) -> dict[str, object]:
    """Module-level ``NAME = <literal or arithmetic of literals>`` of every file."""
    found: dict[str, object] = {}
    for tree, _ in _parse(files).values():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                value = evaluate(node.value, found)
                if value is not None:
                    found[node.targets[0].id] = value
    return found


def evaluate(node: ast.expr, names: dict[str, object] | None = None) -> object:
    """The value of a literal or of ``+ - * // /`` over literals and known names; None if not that simple."""
    names = names or {}
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = evaluate(node.operand, names)
        return -inner if isinstance(inner, int | float) else None
    if isinstance(node, ast.BinOp):
        left, right = evaluate(node.left, names), evaluate(node.right, names)
        if not isinstance(left, int | float) or not isinstance(right, int | float):
            return None
        ops = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right, ast.Mult: lambda: left * right}
        if isinstance(node.op, ast.FloorDiv) and right:
            return left // right
        if isinstance(node.op, ast.Div) and right:
            return left / right
        op = ops.get(type(node.op))
        return op() if op else None
    return None


def lr_of(place: Place) -> tuple[float, str]:
    """(learning rate, optimizer name) of a place found by ``learning_rates``."""
    value = place.value
    if not isinstance(value, tuple):
        raise TypeError("not a learning-rate place")
    return float(value[0]), str(value[1])


def learning_rates(files: dict[str, str]) -> list[Place]:
    """Learning rates the optimizers get: ``lr=<number>`` in an optimizer call, or the number behind a name
    (``lr=self.lr`` -> ``self.lr = 1e-10``; ``lr=LR`` -> ``LR = ...``). ``value`` is (lr, optimizer name)."""
    found: list[Place] = []
    consts = constants(files)
    parsed = _parse(files)
    attrs: dict[str, Place] = {}
    for path, (tree, lines) in parsed.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                value = evaluate(node.value, consts)
                if isinstance(target, ast.Attribute) and isinstance(value, int | float):
                    attrs[target.attr] = _place(path, lines, node, value)
            if isinstance(node, ast.FunctionDef):
                args = node.args
                for arg, default in zip(
                    args.args[len(args.args) - len(args.defaults) :], args.defaults, strict=True
                ):
                    value = evaluate(default, consts)
                    if isinstance(value, int | float) and arg.arg in ("lr", "learning_rate"):
                        attrs.setdefault(arg.arg, _place(path, lines, default, value))
    for path, (tree, lines) in parsed.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _short(node.func) not in OPTIMIZERS:
                continue
            optimizer = _short(node.func)
            for kw in node.keywords:
                if kw.arg != "lr":
                    continue
                value = evaluate(kw.value, consts)
                if isinstance(value, int | float):
                    found.append(_place(path, lines, kw.value, (float(value), optimizer)))
                elif isinstance(kw.value, ast.Attribute) and kw.value.attr in attrs:
                    place = attrs[kw.value.attr]
                    found.append(Place(place.path, place.line, place.code, (float(place.value), optimizer)))  # type: ignore[arg-type]
                elif isinstance(kw.value, ast.Name) and kw.value.id in attrs:
                    place = attrs[kw.value.id]
                    found.append(Place(place.path, place.line, place.code, (float(place.value), optimizer)))  # type: ignore[arg-type]
    return found


def frozen_parameters(files: dict[str, str]) -> list[Place]:
    """``p.requires_grad = False`` and ``x.requires_grad_(False)``."""
    found = []
    for path, (tree, lines) in _parse(files).items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and node.value.value is False
            ):
                found.append(_place(path, lines, node))
            if (
                isinstance(node, ast.Call)
                and _short(node.func) == "requires_grad_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value is False
            ):
                found.append(_place(path, lines, node))
    return found


def probability_into_logits_loss(files: dict[str, str]) -> list[Place]:
    """softmax/sigmoid applied to what a logits loss (cross_entropy, BCEWithLogits) then receives.

    Judged per file: the activation sits in ``forward`` (its return value) or directly inside the loss call,
    and the same file uses a logits loss.
    """
    found = []
    for path, (tree, lines) in _parse(files).items():
        uses_logits_loss = any(
            isinstance(n, ast.Call) and _short(n.func) in LOGITS_LOSSES for n in ast.walk(tree)
        )
        if not uses_logits_loss:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "forward":
                for ret in ast.walk(node):
                    value = ret.value if isinstance(ret, ast.Return) else None
                    if isinstance(value, ast.Call) and _short(value.func) in PROB_ACTIVATIONS:
                        found.append(_place(path, lines, ret))
            if isinstance(node, ast.Call) and _short(node.func) in LOGITS_LOSSES and node.args:
                first = node.args[0]
                if isinstance(first, ast.Call) and _short(first.func) in PROB_ACTIVATIONS:
                    found.append(_place(path, lines, node))
    return found


def unguarded_logs(files: dict[str, str]) -> list[Place]:
    """``torch.log(x)`` / ``x.log()`` with no clamp or epsilon in the argument (log of 0 is -inf)."""
    found = []
    for path, (tree, lines) in _parse(files).items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _short(node.func) not in ("log", "log2", "log10"):
                continue
            owner = node.func.value if isinstance(node.func, ast.Attribute) else None
            if isinstance(owner, ast.Name) and owner.id in ("math", "np", "numpy"):
                continue
            text = ast.unparse(node)
            if any(word in text for word in ("clamp", "clip", "eps", "1e-", "max(")):
                continue
            found.append(_place(path, lines, node))
    return found


def manual_steps_without_zero_grad(files: dict[str, str]) -> list[Place]:
    """Training code that steps an optimizer after ``backward`` but never calls ``zero_grad``.

    Lightning's automatic optimisation zeroes gradients itself, so only manual optimisation
    (``automatic_optimization = False``) and plain PyTorch loops count.
    """
    found = []
    for path, (tree, lines) in _parse(files).items():
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        names = {_short(n.func) for n in calls}
        manual = "LightningModule" not in ast.unparse(tree) or any(
            isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Attribute) and t.attr == "automatic_optimization" for t in n.targets)
            for n in ast.walk(tree)
        )
        if not manual or "zero_grad" in names:
            continue
        backward = [n for n in calls if _short(n.func) in ("backward", "manual_backward")]
        steps = [n for n in calls if _short(n.func) == "step"]
        if backward and steps:
            found.append(_place(path, lines, backward[0]))
    return found


def optimizer_param_sources(files: dict[str, str]) -> list[Place]:
    """Optimizer calls whose parameters are not the whole model's: ``Adam(self.aux.parameters())`` or
    ``Adam(probe.parameters())`` next to a trained ``model``. ``value`` is the parameters expression."""
    found = []
    for path, (tree, lines) in _parse(files).items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _short(node.func) not in OPTIMIZERS or not node.args:
                continue
            arg = node.args[0]
            if not (isinstance(arg, ast.Call) and _short(arg.func) == "parameters"):
                continue
            owner = arg.func.value if isinstance(arg.func, ast.Attribute) else None
            if isinstance(owner, ast.Name) and owner.id in ("self", "model", "net", "module"):
                continue
            found.append(_place(path, lines, node, ast.unparse(arg)))
    return found


def size_constants(files: dict[str, str], minimum: int = 128) -> list[Place]:
    """Module-level input-size constants (``IMAGE_SIZE = 768``) at or above ``minimum``."""
    found = []
    for path, (tree, lines) in _parse(files).items():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                name = node.targets[0].id
                value = evaluate(node.value)
                is_size = name.upper().endswith(SIZE_NAMES) and "BATCH" not in name.upper()
                if is_size and isinstance(value, int) and value >= minimum:
                    found.append(_place(path, lines, node, value))
    return found


def batch_sizes(files: dict[str, str]) -> list[Place]:
    """Batch sizes set as numbers: ``BATCH_SIZE = N`` constants and ``batch_size=N`` arguments."""
    found = []
    for path, (tree, lines) in _parse(files).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
                value = evaluate(node.value)
                if name.lower() == "batch_size" and isinstance(value, int):
                    found.append(_place(path, lines, node, value))
            if isinstance(node, ast.keyword) and node.arg == "batch_size":
                value = evaluate(node.value)
                if isinstance(value, int):
                    found.append(_place(path, lines, node.value, value))
    return found


def imports_of(files: dict[str, str], package: str) -> list[Place]:
    """Import statements of ``package``; ``value`` is True when no name they bind is used in the file."""
    found = []
    for path, (tree, lines) in _parse(files).items():
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        for node in ast.walk(tree):
            bound: list[str] = []
            if isinstance(node, ast.Import):
                mods = [a for a in node.names if a.name.split(".")[0] == package]
                bound = [a.asname or a.name.split(".")[0] for a in mods]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
                bound = [a.asname or a.name for a in node.names]
            if bound:
                found.append(_place(path, lines, node, not any(b in used for b in bound)))
    return found


def download_calls(files: dict[str, str]) -> list[Place]:
    """``download=True``, ``pretrained=True``, ``weights=<not None>`` arguments and ``torch.hub`` loads."""
    found = []
    for path, (tree, lines) in _parse(files).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    value = kw.value
                    if (
                        kw.arg in ("download", "pretrained")
                        and isinstance(value, ast.Constant)
                        and value.value is True
                    ):
                        found.append(_place(path, lines, node, kw.arg))
                    if kw.arg == "weights" and not (isinstance(value, ast.Constant) and value.value is None):
                        found.append(_place(path, lines, node, kw.arg))
                text = ast.unparse(node.func)
                if text.startswith(("torch.hub.", "urllib.request.", "requests.")):
                    found.append(_place(path, lines, node, text))
    return found
