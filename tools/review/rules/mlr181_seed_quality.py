"""MLR181-MLR182: seeding that actually makes runs reproducible."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule


class SeedWithoutWorkers(Rule):
    """``seed_everything`` is called without ``workers=True``.

    DataLoader worker processes then derive their random state from the base seed in a way that repeats
    augmentations across workers and epochs; ``workers=True`` gives every worker its own derived seed.
    """

    code = "MLR181"
    name = "seed-without-workers"
    checklist = "seeding"
    severity = "info"
    message = "seed_everything without workers=True"
    suggestion = "Call seed_everything(seed, workers=True)."
    fixable = True
    VALID = ["import lightning as L\nL.seed_everything(42, workers=True)\n"]
    INVALID = ["import lightning as L\nL.seed_everything(42)\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.short != "seed_everything" or call.kw("workers") is not None or call.has_star_kwargs:
                continue
            if call.positional(1) is not None:
                continue
            fix = Fix(call.file.path, [Edit(call.node, add_kwargs=[("workers", "True")])])
            yield self.at(call.file, call.node, f"{call.code(50)} does not seed DataLoader workers", fix=fix)


class SeedAfterModel(Rule):
    """The seed is set after the model (or data) was already built.

    Weight initialisation and dataset shuffling/splitting that happen before ``seed_everything`` are not
    covered by it, so the run is not reproducible even though a seed is set. Seed first.
    """

    code = "MLR182"
    name = "seed-after-model"
    checklist = "seeding"
    severity = "warning"
    message = "Seed set after the model/data were created"
    suggestion = "Call seed_everything(seed, workers=True) before creating the model and the DataModule."
    VALID = ["import lightning as L\nL.seed_everything(1, workers=True)\nmodel = Net()\n"]
    INVALID = [
        "import lightning as L\nclass Net(L.LightningModule):\n    pass\nmodel = Net()\nL.seed_everything(1, workers=True)\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        built = {c.name for c in project.lightning_modules + project.datamodules}
        for seed in project.calls:
            if seed.short != "seed_everything":
                continue
            line = seed.file.line(seed.node)
            for call in seed.file.calls:
                if call.func is seed.func and call.short in built and call.file.line(call.node) < line:
                    yield self.at(
                        seed.file, seed.node, f"{seed.code(40)} runs after {call.code(40)} was built"
                    )
                    break
