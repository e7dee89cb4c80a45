"""MLR161: training in pure float16 (``precision="16-true"``)."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule

PURE_FP16 = {"16-true"}


class PureFp16Training(Rule):
    """The Trainer trains with ``precision="16-true"``: weights, gradients and optimizer state in float16.

    Unlike ``"16-mixed"`` there is no float32 master copy of the weights and no loss scaling: small updates
    round away to zero and small gradients underflow, so CNN training stalls or diverges. ``"16-true"`` is
    meant for inference and memory-bound fine-tuning of very large models; train with ``"16-mixed"`` (or
    ``"bf16-mixed"`` on Ampere and newer).
    """

    code = "MLR161"
    name = "pure-fp16-training"
    checklist = "mixed-precision"
    severity = "error"
    message = 'precision="16-true" trains without float32 master weights or loss scaling'
    suggestion = 'Use precision="16-mixed" (or "bf16-mixed" on Ampere+ GPUs) for training.'
    VALID = [
        "import lightning as L\ntrainer = L.Trainer(precision='16-mixed')\n",
        "import lightning as L\ntrainer = L.Trainer(precision='bf16-mixed')\n",
    ]
    INVALID = ["import lightning as L\ntrainer = L.Trainer(precision='16-true')\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        found, _ = project.trainer_setting("precision")
        for site, setting in found:
            if setting.value in PURE_FP16:
                yield Hit(
                    site.path,
                    site.line,
                    message=f"precision={setting.code} at {setting.where}: {self.message}",
                )
