"""MLR202: DataLoader without worker processes."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule


class DataLoaderWithoutWorkers(Rule):
    """A ``DataLoader`` loads in the training process (``num_workers`` not given, or 0).

    Decoding and augmenting images then runs between GPU steps instead of beside them, and the GPU waits: a
    common 2-5x slowdown of image training. Give it worker processes (e.g. ``num_workers=4`` or a config
    value), with ``persistent_workers=True`` for short epochs. An info note (it sets no checklist status):
    a tiny in-memory data set may not need workers. The same check as TorchFix's TOR401.
    """

    code = "MLR202"
    name = "dataloader-without-workers"
    checklist = ""
    severity = "info"
    message = "DataLoader without worker processes (num_workers is 0)"
    suggestion = "Pass num_workers=4 (or a configured value) and persistent_workers=True."
    VALID = [
        "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=32, num_workers=4)\n",
        "from torch.utils.data import DataLoader\nloader = DataLoader(ds, **loader_kwargs)\n",
    ]
    INVALID = [
        "from torch.utils.data import DataLoader\nloader = DataLoader(ds, batch_size=32, shuffle=True)\n",
        "import torch\nloader = torch.utils.data.DataLoader(ds, batch_size=8, num_workers=0)\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.short != "DataLoader" or call.has_star_kwargs:
                continue
            if call.resolved and not call.name.startswith("torch."):
                continue  # another library's DataLoader (torch_geometric, a project class) has other arguments
            workers = call.kw("num_workers") or (call.node.args[5] if len(call.node.args) > 5 else None)
            if workers is None:
                yield self.at(call.file, call.node, f"{call.code(60)} has no num_workers")
            elif call.kw_value("num_workers") == 0 and call.kw("num_workers") is not None:
                yield self.at(call.file, workers, f"{call.code(60)} sets num_workers=0")
