"""MLR200: torch.load without weights_only (security)."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.index import Call
from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, Rule


def is_torch_call(call: Call, name: str) -> bool:
    """``call`` is ``torch.<name>`` by its imports (or spelled so in a snippet without imports)."""
    return call.name == f"torch.{name}" or (not call.resolved and call.raw == f"torch.{name}")


class TorchLoadWithoutWeightsOnly(Rule):
    """``torch.load`` is called without an explicit ``weights_only``.

    ``torch.load`` unpickles: before PyTorch 2.6 its default (``weights_only=False``) runs whatever code a
    checkpoint file carries, so loading a downloaded or shared checkpoint can execute an attacker's code.
    ``weights_only=True`` loads tensors and plain containers only (the default since 2.6); pass it explicitly so
    the code is safe on every PyTorch version, or ``weights_only=False`` where the file is trusted and full
    pickling is needed. The fix adds ``weights_only=True`` (not when a ``pickle_module`` is given: that is a
    deliberate choice to make by hand). The same check as TorchFix's TOR102.
    """

    code = "MLR200"
    name = "torch-load-without-weights-only"
    checklist = ""
    severity = "warning"
    message = "torch.load without weights_only can run code hidden in the checkpoint"
    suggestion = "Pass weights_only=True (or weights_only=False only for files you trust)."
    fixable = True
    VALID = [
        'import torch\nstate = torch.load("model.pt", map_location="cpu", weights_only=True)\n',
        'import json\nwith open("a.json") as f:\n    cfg = json.load(f)\n',
    ]
    INVALID = [
        'import torch\nstate = torch.load("model.pt", map_location="cpu")\n',
        'from torch import load\nckpt = load(path)\nmodel.load_state_dict(ckpt["state_dict"])\n',
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if not is_torch_call(call, "load") or call.kw("weights_only") is not None or call.has_star_kwargs:
                continue
            pickled = call.kw("pickle_module") is not None or call.positional(2) is not None
            fix = (
                None
                if pickled
                else Fix(call.file.path, [Edit(call.node, add_kwargs=[("weights_only", "True")])])
            )
            yield self.at(call.file, call.node, f"{call.code(60)} has no weights_only", fix=fix)
