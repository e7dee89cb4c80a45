"""MLR191: the test set is not used for validation, early stopping or model selection."""

from __future__ import annotations

import re
from collections.abc import Iterable

import libcst as cst

from tools.review.index import literal
from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.rules.split_binding import test_split_source

_TEST = re.compile(r"(^|[._])test", re.I)


class TestSetAsValidation(Rule):
    """The test split is used as validation data (early stopping, checkpoint selection, LR plateaus).

    Whatever picks the epoch, the checkpoint or the hyperparameters has seen the test set: the reported test
    score is then optimistic and no longer an estimate of performance on new data. Carve a validation split
    out of the training data and touch the test split once, at the end.
    """

    code = "MLR191"
    name = "test-set-as-validation"
    checklist = "data-leakage"
    severity = "error"
    message = "The test set is used for validation/model selection"
    suggestion = "Split a validation set off the training data; evaluate on the test set only once with trainer.test()."
    VALID = [
        "import lightning as L\ntrainer = L.Trainer()\ntrainer.fit(model, train_loader, val_loader)\ntrainer.test(model, test_loader)\n"
    ]
    INVALID = [
        "import lightning as L\ntrainer = L.Trainer()\ntrainer.fit(model, train_loader, test_loader)\n",
        "import lightning as L\nclass D(L.LightningDataModule):\n    def val_dataloader(self):\n        return DataLoader(self.test_ds)\n",
        "from lightning.pytorch.callbacks import EarlyStopping\nes = EarlyStopping(monitor='test/acc', mode='max')\n",
        "import lightning as L\nfrom torchvision.datasets import MNIST\nval_loader = DataLoader(MNIST('d', train=False))\n"
        "trainer = L.Trainer()\ntrainer.fit(model, train_loader, val_loader)\n",
        "import torch\nfrom torchvision.datasets import CIFAR10\n\ndef main():\n"
        "    eval_loader = DataLoader(CIFAR10('d', train=False))\n    for epoch in range(10):\n"
        "        for x, y in train_loader:\n            loss = model(x).sum()\n            loss.backward()\n"
        "        acc = evaluate(model, eval_loader)\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.fit_calls:
            val = call.kw("val_dataloaders")
            node = val.value if val is not None else call.positional(2)
            if node is not None and _TEST.search(raw_name(node) or ""):
                yield self.at(
                    call.file, node, f"{call.code(60)} validates on {raw_name(node)}", within=call.node
                )
            elif node is not None and (source := test_split_source(project, call.file, node, call.func)):
                yield self.at(
                    call.file,
                    node,
                    f"{call.code(60)} validates on the test split ({source})",
                    within=call.node,
                )
        for cls in project.datamodules + project.lightning_modules:
            method = cls.methods.get("val_dataloader")
            if method is None:
                continue
            for c in method.calls:
                if c.short == "DataLoader":
                    first = c.positional(0) or c.kw_node("dataset")
                    name = raw_name(first) if first is not None else ""
                    if _TEST.search(name):
                        yield self.at(c.file, c.node, f"val_dataloader returns the test data ({name})")
        for f in project.files:
            for a in f.assignments:
                target = a.target.rsplit(".", 1)[-1]
                if not re.search(r"val", target, re.I) or _TEST.search(target):
                    continue
                value = a.value
                name = raw_name(value)
                split = None
                if isinstance(value, cst.Call):
                    arg = next((x for x in value.args if x.keyword and x.keyword.value == "split"), None)
                    split = literal(arg.value) if arg is not None else None
                if (name and _TEST.search(name) and not isinstance(value, cst.Call)) or split == "test":
                    yield self.at(f, a.node, f"{a.target} is the test split ({f.code(value, 60)})")
        for call in project.calls_named("ConcatDataset"):
            parts = call.file.code(call.node, 2000)
            if re.search(
                r"split\s*=\s*[\"']test[\"']|\btest(_ds|_set|_dataset|_data)\b|train\s*=\s*False", parts
            ):
                yield self.at(call.file, call.node, f"{call.code(60)} mixes test data into a training set")
        for call in project.calls:
            if call.short in {"ModelCheckpoint", "EarlyStopping"}:
                arg = call.kw("monitor")
                if arg is not None and isinstance(arg.value, cst.SimpleString):
                    key = arg.value.evaluated_value
                    if isinstance(key, str) and key.lower().startswith("test"):
                        yield self.at(call.file, arg, f"{call.short} selects on the test metric {key!r}")
        yield from self._test_split_in_training_loop(project)
        for loop in (lp for f in project.files for lp in f.loops):
            if not _TEST.search(loop.iter or ""):
                continue
            outer = [
                c
                for c in project.backward_calls
                if c.func is loop.func and any(p in c.loops for p in loop.parents)
            ]
            if outer:
                f = outer[0].file
                yield self.at(
                    f, loop.node, f"The test data ({loop.iter}) is evaluated inside the training loop"
                )

    def _test_split_in_training_loop(self, project: Project) -> Iterable[Hit]:
        """A loader bound to the test split, whatever its name, evaluated inside a hand-written training loop
        (best-epoch selection on the test set)."""
        seen: set[int] = set()
        for back in project.backward_calls:
            func = back.func
            outer = back.loops[0] if back.loops else None
            if outer is None:
                continue
            for call in back.file.calls:
                if call.func is not func or outer not in call.loops or id(call.node) in seen:
                    continue
                for arg in call.node.args:
                    if not isinstance(arg.value, cst.Name) or _TEST.search(arg.value.value):
                        continue  # names that say "test" are reported by the loop check below
                    source = test_split_source(project, call.file, arg.value, func)
                    if source is not None:
                        seen.add(id(call.node))
                        yield self.at(
                            call.file,
                            call.node,
                            f"{call.code(50)} evaluates {arg.value.value}, the test split ({source}), inside "
                            "the training loop",
                        )
                        break
