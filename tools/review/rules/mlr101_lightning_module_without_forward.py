"""MLR101: lightning module without forward."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.structure import LM, local_lms


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
        for cls in local_lms(project):
            if project.method(cls, "training_step") and not project.method(cls, "forward"):
                yield self.at(
                    project.class_file(cls), cls.node.name, f"{cls.name} has training_step but no forward()"
                )
