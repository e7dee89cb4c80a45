"""MLR101-MLR107: the structure of a LightningModule and its entry point."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.index import ClassInfo, FuncInfo
from tools.review.project import STEP_METHODS, Project
from tools.review.rules.base import Edit, Fix, Hit, Rule

LM = "import lightning as L\n"


def _file_of(project: Project, func: FuncInfo):  # type: ignore[no-untyped-def]
    return next(f for f in project.files if func in f.functions)


def _local_lms(project: Project) -> list[ClassInfo]:
    """LightningModules whose whole definition is in the reviewed code (no foreign base class)."""
    return [c for c in project.lightning_modules if not project.has_foreign_base(c)]


class NoForward(Rule):
    """A LightningModule has no ``forward``.

    Without ``forward`` the module cannot be called for inference (``model(x)``), ``to_onnx``/
    ``to_torchscript`` and ``predict_step`` defaults fail, and the prediction logic gets duplicated across
    the ``*_step`` methods. Put the inference computation in ``forward`` and call ``self(x)`` from the steps.
    """

    code = "MLR101"
    name = "lightning-module-without-forward"
    checklist = "lightning-module"
    severity = "info"
    message = "LightningModule without forward()"
    suggestion = (
        "Define forward(self, x) with the inference computation and call self(x) in the *_step methods."
    )
    VALID = [
        LM
        + "class M(L.LightningModule):\n    def forward(self, x):\n        return x\n    def training_step(self, b, i):\n        return self(b)\n"
    ]
    INVALID = [
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        return self.net(b).sum()\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in _local_lms(project):
            if project.method(cls, "training_step") and not project.method(cls, "forward"):
                yield self.at(
                    project.class_file(cls), cls.node.name, f"{cls.name} has training_step but no forward()"
                )


class NoMetrics(Rule):
    """A LightningModule logs nothing.

    A module whose steps never call ``self.log`` trains blind: no loss curve, no validation metric for
    checkpointing or early stopping, nothing for the experiment tracker. Log the loss in ``training_step``
    and at least one metric (torchmetrics) in ``validation_step``.
    """

    code = "MLR102"
    name = "lightning-module-without-metrics"
    checklist = "metric-prefixes"
    severity = "warning"
    message = "LightningModule logs no metrics"
    suggestion = 'Log the loss and a torchmetrics metric: self.log("train/loss", loss); self.log("val/acc", self.val_acc).'
    VALID = [
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        loss = self(b)\n        self.log('train/loss', loss)\n        return loss\n"
    ]
    INVALID = [
        LM + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        return self(b)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.backward_calls and not project.lightning_modules and not project.log_calls:
            call = project.backward_calls[0]
            yield self.at(
                call.file, call.loops[0], "The training loop logs no metric (printing is not logging)"
            )
        for cls in _local_lms(project):
            if project.method(cls, "training_step") is None:
                continue
            logs = False
            for name in [*cls.methods, *STEP_METHODS]:
                method = project.method(cls, name)
                if method is not None and any(
                    c.short in {"log", "log_dict"} and c.receiver.startswith("self") for c in method.calls
                ):
                    logs = True
                    break
            if not logs:
                yield self.at(project.class_file(cls), cls.node.name, f"{cls.name} never calls self.log")


class NoSaveHyperparameters(Rule):
    """A LightningModule's ``__init__`` takes arguments but never calls ``self.save_hyperparameters()``.

    Without it the checkpoint does not record how the model was built: ``Model.load_from_checkpoint(path)``
    fails or silently uses defaults, and the logger shows no hyperparameters for the run.
    """

    code = "MLR103"
    name = "missing-save-hyperparameters"
    checklist = "lightning-module"
    severity = "info"
    message = "__init__ takes hyperparameters but does not call self.save_hyperparameters()"
    suggestion = (
        "Call self.save_hyperparameters() right after super().__init__() (ignore=['net'] for modules)."
    )
    fixable = True
    VALID = [
        LM
        + "class M(L.LightningModule):\n    def __init__(self, lr=1e-3):\n        super().__init__()\n        self.save_hyperparameters()\n"
    ]
    INVALID = [
        LM
        + "class M(L.LightningModule):\n    def __init__(self, lr=1e-3):\n        super().__init__()\n        self.lr = lr\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in _local_lms(project):
            init = cls.methods.get("__init__")
            if init is None or len([p for p in init.params if p != "self"]) == 0:
                continue
            if any(c.short == "save_hyperparameters" for c in init.calls):
                continue
            f = _file_of(project, init)
            fix = None
            body = init.node.body
            if isinstance(body, cst.IndentedBlock):
                stmts = list(body.body)
                for i, stmt in enumerate(stmts[:-1]):
                    if "super(" in f.module.code_for_node(stmt) and "__init__" in f.module.code_for_node(
                        stmt
                    ):
                        fix = Fix(f.path, [Edit(stmts[i + 1], insert_before=["self.save_hyperparameters()"])])
                        break
            yield self.at(
                f, init.node.name, f"{cls.name}.__init__ does not call self.save_hyperparameters()", fix=fix
            )


_HEAVY = {
    "torch.hub.load",
    "torch.load",
    "urllib.request.urlretrieve",
    "requests.get",
    "wget.download",
    "torch.hub.download_url_to_file",
    "torch.hub.load_state_dict_from_url",
    "gdown.download",
}


class HeavyIoInInit(Rule):
    """``__init__`` of a LightningModule downloads or loads files (``torch.hub.load``, ``torch.load``, URLs).

    ``__init__`` runs in every process (each DDP rank, each ``load_from_checkpoint``, each test), so downloads
    race and repeat, and ``torch.load`` of a full checkpoint there is overwritten by the checkpoint being
    restored anyway. Download in ``DataModule.prepare_data`` or a script; load weights in ``setup`` or pass
    a built backbone in.
    """

    code = "MLR104"
    name = "heavy-io-in-init"
    checklist = ""
    severity = "warning"
    message = "Downloads/file loading in LightningModule.__init__"
    suggestion = "Download once in prepare_data (or a script) and load weights in setup(), or pass the built network in."
    VALID = [
        LM
        + "import torchvision\nclass M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = torchvision.models.resnet18(weights=None)\n"
    ]
    INVALID = [
        LM
        + "import torch\nclass M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.net = torch.hub.load('pytorch/vision', 'resnet18')\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            init = cls.methods.get("__init__")
            if init is None:
                continue
            for call in init.calls:
                if call.name in _HEAVY or call.kw_value("download") is True:
                    yield self.at(call.file, call.node, f"{call.code(60)} in {cls.name}.__init__")


class LossIsSumOfOutputs(Rule):
    """The training loss is ``.sum()`` of the model's outputs.

    ``self(x).sum()`` is a placeholder, not a loss: it ignores the targets, so the model learns to drive its
    outputs to minus infinity. Compute a real criterion against the labels.
    """

    code = "MLR105"
    name = "loss-is-sum-of-outputs"
    checklist = "lightning-module"
    severity = "error"
    message = "The loss is the sum of the model outputs (targets ignored)"
    suggestion = "Compute a criterion against the targets, e.g. F.cross_entropy(self(x), y)."
    VALID = [
        LM
        + "import torch.nn.functional as F\nclass M(L.LightningModule):\n    def training_step(self, b, i):\n        x, y = b\n        return F.cross_entropy(self(x), y)\n"
    ]
    INVALID = [
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        x, y = b\n        loss = self(x).sum()\n        return loss\n",
        LM
        + "class M(L.LightningModule):\n    def training_step(self, b, i):\n        out = self.model(b[0])\n        return out.sum()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in project.lightning_modules:
            step = project.method(cls, "training_step")
            if step is None:
                continue
            outputs = {
                a.target
                for f in project.files
                for a in f.assignments
                if a.func is step
                and isinstance(a.value, cst.Call)
                and f.code(a.value.func) in {"self", "self.forward", "self.model", "self.net"}
            }
            for call in step.calls:
                if call.short != "sum" or not isinstance(call.node.func, cst.Attribute):
                    continue
                recv = call.node.func.value
                code = call.file.code(recv)
                direct = isinstance(recv, cst.Call) and call.file.code(recv.func) in {
                    "self",
                    "self.forward",
                    "self.model",
                    "self.net",
                }
                if direct or code in outputs:
                    yield self.at(call.file, call.node, f"{call.code(60)} is used as the loss")


_METRIC_ROOTS = ("torchmetrics",)


class MetricCreatedInStep(Rule):
    """A torchmetrics object is created inside a ``*_step`` method.

    A metric built per batch never accumulates state across the epoch, is not moved to the device with the
    module, and is not reset/synced by Lightning in DDP. Create metrics in ``__init__`` (one per stage) and
    log the metric object itself.
    """

    code = "MLR106"
    name = "metric-created-in-step"
    checklist = "metric-prefixes"
    severity = "warning"
    message = "torchmetrics object created inside a step"
    suggestion = "Create the metric once in __init__ (self.val_acc = MulticlassAccuracy(num_classes)) and update/log it in the step."
    VALID = [
        LM
        + "from torchmetrics.classification import MulticlassAccuracy\nclass M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n        self.acc = MulticlassAccuracy(10)\n"
    ]
    INVALID = [
        LM
        + "from torchmetrics.classification import MulticlassAccuracy\nclass M(L.LightningModule):\n    def validation_step(self, b, i):\n        acc = MulticlassAccuracy(10)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.func is None or call.func.name not in STEP_METHODS or not call.resolved:
                continue
            if (
                call.name.startswith(_METRIC_ROOTS)
                and call.short[:1].isupper()
                and "functional" not in call.name
            ):
                yield self.at(call.file, call.node, f"{call.code(60)} is created in {call.func.name}")


class FitWithoutMainGuard(Rule):
    """``trainer.fit()`` runs at module level without ``if __name__ == "__main__":``.

    Importing the module (tests, DataLoader workers with the spawn start method, DDP launchers) then starts
    training again; with ``num_workers > 0`` on macOS/Windows it recurses.
    """

    code = "MLR107"
    name = "fit-without-main-guard"
    checklist = ""
    severity = "warning"
    message = "trainer.fit() at module level without a __main__ guard"
    suggestion = 'Move the training code into main() and call it under if __name__ == "__main__":.'
    VALID = [
        LM
        + "def main():\n    trainer = L.Trainer()\n    trainer.fit(model)\nif __name__ == '__main__':\n    main()\n"
    ]
    INVALID = [{"train.py": LM + "trainer = L.Trainer()\ntrainer.fit(model)\n"}]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.snippet:
            return
        for call in project.fit_calls:
            if (
                call.func is None
                and call.cls is None
                and not call.main_guard
                and "trainer" in call.receiver.lower()
            ):
                yield self.at(call.file, call.node, f"{call.code(50)} runs on import")
