"""MLR131: metrics go to a logger, not to print()."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import STEP_METHODS, Project
from tools.review.rules.base import Hit, Rule

_HOOKS = (
    *STEP_METHODS,
    "on_train_epoch_end",
    "on_validation_epoch_end",
    "on_test_epoch_end",
    "training_epoch_end",
)


class PrintLogging(Rule):
    """Training progress or metrics are reported with ``print()``.

    Printed numbers are lost when the terminal closes, cannot be plotted or compared across runs, and in
    multi-GPU runs every process prints. Log them instead: ``self.log("train/loss", loss)`` in a
    LightningModule, or the experiment logger (W&B, MLflow, TensorBoard) in a loop.
    """

    code = "MLR131"
    name = "print-logging"
    checklist = "metric-prefixes"
    severity = "warning"
    message = "Metrics are printed instead of logged"
    suggestion = 'Use self.log("train/loss", loss) (or the experiment logger) instead of print().'
    VALID = [
        (
            "import lightning as L\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n"
            "        loss = self(b)\n        self.log('train/loss', loss)\n        return loss\n"
        ),
        "print('starting')\n",
    ]
    INVALID = [
        (
            "import lightning as L\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n"
            "        loss = self(b)\n        print(loss)\n        return loss\n"
        ),
        "for x, y in loader:\n    loss = model(x)\n    loss.backward()\n    print(f'loss {loss.item()}')\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        training_funcs = {id(c.func) for c in project.backward_calls if c.func is not None}
        training_loops = {id(loop) for c in project.backward_calls for loop in c.loops}
        for call in project.calls:
            if call.raw != "print":
                continue
            in_hook = call.func is not None and call.func.name in _HOOKS and call.cls is not None
            in_loop = bool(call.loops) and (
                any(id(loop) in training_loops for loop in call.loops)
                or (call.func is not None and id(call.func) in training_funcs)
                or any(lp.node in call.loops and "loader" in lp.iter.lower() for lp in call.file.loops)
            )
            if in_hook or in_loop:
                where = f"in {call.func.name}" if in_hook and call.func else "in the training loop"
                yield self.at(
                    call.file, call.node, f"{call.code(60)} {where}: metrics are printed, not logged"
                )
