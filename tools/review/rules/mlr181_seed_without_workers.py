"""MLR181: seed without workers."""

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
