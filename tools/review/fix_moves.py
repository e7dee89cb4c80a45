"""Fixes that place or move code instead of editing one call: where ``seed_everything`` goes, and moving a
softmax out of ``forward()``.

Why a module of its own: these fixes must reason about a whole entry point or class (which statement builds
the model first, which callers read ``forward``'s output), which a single-node rule fix cannot. They build the
same :class:`~tools.review.rules.base.Fix` edits the engine's one applier (:mod:`tools.review.fix`) applies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import libcst as cst

from tools.review.index import Call, ClassInfo, FileIndex, FuncInfo
from tools.review.project import Project, raw_name
from tools.review.rules.base import Edit, Fix, replace_with
from tools.review.walk import find_all

# ------------------------------------------------------------------------------------------------ seeding ---
#: Calls that build a model, data or the Trainer: the seed must run before the first of them.
BUILDERS = frozenset(
    {
        "Trainer",
        "DataLoader",
        "random_split",
        "create_model",
        "instantiate",
        "from_pretrained",
        "LightningCLI",
    }
)
BUILT_KINDS = frozenset({"lightning_module", "datamodule", "torch_module", "dataset"})


def _statement_chain(root: cst.CSTNode, target: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements from ``root``'s body down to the one holding ``target`` (each in a block of the one before).

    Empty when ``target`` is not under ``root``.
    """

    def walk(node: cst.CSTNode, chain: list[cst.CSTNode]) -> list[cst.CSTNode] | None:
        if node is target:
            return chain
        for child in node.children:
            in_block = isinstance(node, cst.Module | cst.IndentedBlock) and isinstance(
                child, cst.SimpleStatementLine | cst.BaseCompoundStatement
            )
            found = walk(child, [*chain, child] if in_block else chain)
            if found is not None:
                return found
        return None

    return walk(root, []) or []


def _builds(project: Project, call: Call, built: set[str]) -> bool:
    return call.short in BUILDERS or call.short in built or call.name.startswith("torchvision.models.")


def _builder_calls(project: Project, anchor: Call) -> Iterator[Call]:
    """Calls of ``anchor``'s file and scope (function or module level) that build a model, data or a Trainer.

    Known by what they call (a model/data class of the project, a Trainer, a DataLoader, a torchvision model)
    or by where their result goes: the names passed to ``fit``/``validate``/``test`` in that scope are the
    model and data, whatever class or factory (``build_model(cfg)``, imported from a file not given) built them.
    """
    built = {c.name for c in project.classes if project.kinds(c) & BUILT_KINDS}
    scope = [c for c in anchor.file.calls if c.func is anchor.func and c.cls is anchor.cls]
    trained = {
        name.value
        for c in scope
        if c.short in {"fit", "validate", "test"}
        for arg in c.node.args
        for name in find_all(arg.value, cst.Name)
    }
    for call in scope:
        if _builds(project, call, built) or call.target in trained:
            yield call


def seed_insertion_point(project: Project, trainer: Call) -> cst.CSTNode | None:
    """The statement ``seed_everything`` goes before: the first one of the Trainer's entry point that builds the
    model, the data or the Trainer, in the innermost block it shares with the Trainer (so the seed runs on the
    same path as the Trainer, never only inside one branch).
    """
    root: cst.CSTNode = trainer.func.node if trainer.func is not None else trainer.file.module
    target = _statement_chain(root, trainer.node)
    if not target:
        return trainer.stmt
    trainer_line = trainer.file.line(trainer.node)
    best: tuple[int, cst.CSTNode] | None = None
    for call in _builder_calls(project, trainer):
        if call.file.line(call.node) > trainer_line:
            continue
        chain = _statement_chain(root, call.node)
        k = 0
        while k < min(len(chain), len(target)) and chain[k] is target[k]:
            k += 1
        stmt = chain[k] if k < len(chain) else chain[k - 1] if k else None
        if stmt is None:
            continue
        line = trainer.file.line(stmt)
        if best is None or line < best[0]:
            best = (line, stmt)
    return best[1] if best is not None else target[-1]


# ---------------------------------------------------------------------------------- softmax out of forward ---
def softmax_parts(file: FileIndex, node: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
    """(logits expression, dim source) of ``F.softmax(x, dim=d)`` / ``torch.softmax(x, d)`` / ``x.softmax(d)`` /
    ``nn.Softmax(dim=d)(x)``; the dim is ``"1"`` when the call leaves it implicit (PyTorch's choice for
    (N, C, ...) inputs), None when ``node`` is not a softmax.
    """
    if not isinstance(node, cst.Call):
        return None

    def dim_of(call: cst.Call, position: int) -> str:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "dim":
                return file.code(arg.value)
        positional = [a for a in call.args if a.keyword is None and not a.star]
        return file.code(positional[position].value) if len(positional) > position else "1"

    func = node.func
    if isinstance(func, cst.Call) and raw_name(func.func).rsplit(".", 1)[-1] == "Softmax":
        return (node.args[0].value, dim_of(func, 0)) if node.args else None
    if raw_name(func).rsplit(".", 1)[-1] != "softmax" or not isinstance(func, cst.Attribute | cst.Name):
        return None
    if isinstance(func, cst.Attribute):
        receiver = raw_name(func.value)
        functional = receiver in {"F", "torch", "nn.functional", "torch.nn.functional", "functional"}
        if not functional and file.resolve(receiver)[1] is False:
            return func.value, dim_of(node, 0)
    return (node.args[0].value, dim_of(node, 1)) if node.args else None


def _wrap_softmax(dim: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An ``Edit.replace`` turning ``expr`` into ``expr.softmax(dim=D)`` (a method call: no import needed)."""

    def wrap(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.BaseExpression)
        return cst.Call(
            func=cst.Attribute(value=node, attr=cst.Name("softmax")),
            args=[cst.Arg(keyword=cst.Name("dim"), value=cst.parse_expression(dim), equal=_EQ)],
        )

    return wrap


_EQ = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def _feeds(call: Call, consumers: Iterable[Call]) -> bool:
    """Whether ``call``'s output goes into the first argument of one of ``consumers``: the call itself, or the
    name it is assigned to, anywhere in that argument (``loss(out.view(-1, C), y)`` counts), also through a
    helper method (``self._loss(out, y)`` whose parameter reaches the loss).
    """
    helpers: set[str] = set()
    for consumer in consumers:
        first = consumer.positional(0)
        if first is None:
            continue
        used = {n.value for n in find_all(first, cst.Name)}
        if consumer.func is call.func:
            if any(node is call.node for node in find_all(first, cst.Call)):
                return True
            if call.target and call.target in used:
                return True
        elif consumer.func is not None and consumer.func.cls is not None and used & set(consumer.func.params):
            helpers.add(f"self.{consumer.func.name}")
    if not call.target or not helpers:
        return False
    return any(
        c.raw in helpers and any(n.value == call.target for n in find_all(c.node, cst.Name))
        for c in call.file.calls
        if c.func is call.func
    )


def _is_ctor_of(call: Call, cls: ClassInfo) -> bool:
    return call.short == cls.name and call.target is not None


def forward_softmax_fix(
    project: Project, cls: ClassInfo, forward: FuncInfo, cross_entropy: list[Call]
) -> Fix | None:
    """Return logits from ``forward`` and keep probabilities everywhere else (issue 11).

    * each ``return softmax(z)`` in ``forward`` becomes ``return z``;
    * every other caller of the model (``self(x)`` in the class's methods, ``model(x)`` where ``model = Cls()``
      in a reviewed file) whose output does not go into one of ``cross_entropy`` gets ``.softmax(dim=D)``
      added, so metrics, ``predict_step`` and inference code see the probabilities they saw before;
    * a LightningModule without ``predict_step`` gets one that returns ``self(batch).softmax(dim=D)`` (what
      Lightning's default ``predict_step``, ``self(batch)``, returned before the fix).

    None when ``forward`` returns no softmax or the code around it spans files (edits stay in one file).
    """
    file = project.class_file(cls)
    if forward.node not in {m.node for m in cls.methods.values()}:
        return None  # forward comes from a base class in another place: leave it to a person
    edits: list[Edit] = []
    dim: str | None = None
    for ret in find_all(forward.node, cst.Return):
        value = ret.value
        parts = softmax_parts(file, value) if value is not None else None
        if value is None or parts is None:
            continue
        logits, dim = parts
        edits.append(Edit(value, replace=replace_with(logits)))
    if dim is None:
        return None
    callers = [
        c for c in file.calls if c.cls is cls and c.func is not forward and c.raw in {"self", "self.forward"}
    ]
    ctor_targets = {c.target for c in file.calls if _is_ctor_of(c, cls)}
    callers += [
        c
        for c in file.calls
        if c.raw in ctor_targets or (c.receiver in ctor_targets and c.short == "forward")
    ]
    for call in callers:
        if not _feeds(call, cross_entropy):
            edits.append(Edit(call.node, replace=_wrap_softmax(dim)))
    if "lightning_module" in project.kinds(cls) and project.method(cls, "predict_step") is None:
        edits.append(Edit(cls.node, replace=_add_predict_step(dim)))
    return Fix(file.path, edits)


def _add_predict_step(dim: str) -> Callable[[cst.CSTNode], cst.CSTNode]:
    method = cst.parse_statement(
        "def predict_step(self, batch, batch_idx):\n"
        f'    """Class probabilities (``forward`` returns logits for the loss)."""\n'
        f"    return self(batch).softmax(dim={dim})\n"
    ).with_changes(leading_lines=[cst.EmptyLine(indent=False)])

    def add(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.ClassDef) and isinstance(node.body, cst.IndentedBlock)
        return node.with_changes(body=node.body.with_changes(body=[*node.body.body, method]))

    return add
