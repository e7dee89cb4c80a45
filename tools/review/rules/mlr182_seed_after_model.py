"""MLR182: seed after model."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule


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
