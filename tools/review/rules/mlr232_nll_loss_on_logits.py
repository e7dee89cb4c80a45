"""MLR232: nll loss on logits."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.loss_inputs import F
from tools.review.rules.loss_scope import external_network, loss_applications


class NllLossOnLogits(Rule):
    """``nll_loss``/``NLLLoss`` receives raw logits.

    NLL expects log-probabilities; on raw logits it just returns minus the target logit, which the model can
    push to infinity: the loss diverges while accuracy stays random. Use ``cross_entropy`` on logits (or
    apply ``log_softmax`` first).
    """

    code = "MLR232"
    name = "nll-loss-on-logits"
    checklist = "loss-function"
    severity = "error"
    message = "nll_loss on raw logits (it expects log-probabilities)"
    suggestion = "Use F.cross_entropy(logits, y), or F.nll_loss(F.log_softmax(logits, dim=1), y)."
    VALID = [
        F + "loss = F.nll_loss(F.log_softmax(logits, dim=1), y)\n",
        F + "import lightning as L\nfrom src.models.factory import build_model\n"
        "class M(L.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
        "        self.model = build_model('wrn')\n"
        "    def training_step(self, b, i):\n        return F.nll_loss(self.model(b[0]), b[1])\n",
    ]
    INVALID = [F + "logits = model(x)\nloss = F.nll_loss(logits, y)\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.mentions(r"log_softmax|LogSoftmax"):
            return
        for call, short in loss_applications(project, {"NLLLoss", "nll_loss"}):
            if external_network(project, call):
                continue  # the log_softmax may end the network that was not given: unknown, not fail
            yield self.at(call.file, call.node, f"{short} without log_softmax anywhere: {call.code(60)}")
