"""MLR009: random seeds are set in the entry point."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.fix_moves import seed_insertion_point
from tools.review.index import MISSING, Call
from tools.review.models import Status
from tools.review.project import Project, config_ref
from tools.review.rules.base import Edit, Fix, Hit, PrimaryRule
from tools.review.rules.common import lightning_import_for


def reachable(project: Project, call: Call) -> bool:
    """Whether the code around ``call`` runs: module level, a method, an entry point, or a called function."""
    func = call.func
    if func is None or func.cls is not None or func.name == "main" or func.node.decorators:
        return True
    return any(c.short == func.name and c.func is not func for c in project.calls)


def seed_calls(project: Project) -> list[Call]:
    return [
        c
        for c in project.calls
        if c.short in {"seed_everything", "set_seed", "set_random_seed"}
        and c.raw not in {"torch.cuda.set_seed"}
        and reachable(project, c)
    ]


def seed_from_config(project: Project, call: Call) -> tuple[str, str]:
    """('ok'|'null'|'absent'|'literal', where) for the seed value a seeding call receives."""
    arg = call.positional(0) or call.kw_node("seed")
    ref = config_ref(call.file.code(arg)) if arg is not None else None
    if ref is None:
        return "literal", call.where()
    state, value, where = project.config_value(ref)
    if state == "absent":
        return "absent", f"{call.code(50)} reads {ref} from a config that was not given"
    if value is None:
        return "null", f"{ref} is null ({where}), so {call.code(40)} does not seed"
    shown = "" if value is MISSING else f"={value!r}"
    return "ok", f"{call.code(50)} with {ref}{shown} ({where})"


def trio(project: Project) -> tuple[list[Call], bool]:
    """torch.manual_seed calls and whether random/numpy are seeded too."""
    torch_seed = [
        c
        for c in project.calls
        if c.short == "manual_seed"
        and "cuda" not in c.name
        and "Generator" not in c.raw
        and reachable(project, c)
    ]
    others = any(
        c.name in {"random.seed", "numpy.random.seed"} or c.raw.endswith("random.seed") for c in project.calls
    )
    return torch_seed, others


class NoSeed(PrimaryRule):
    """The training entry point does not seed the random number generators.

    Without a seed two runs of the same code differ in initialisation, shuffling and augmentation, so a
    change cannot be told apart from noise. Call ``L.seed_everything(42, workers=True)`` before building the
    model and the data (``workers=True`` also seeds DataLoader workers), or seed torch, numpy and random
    yourself. Accepted too: ``LightningCLI`` (it seeds by default and records the seed), a ``seed_everything``
    key in a LightningCLI config.
    """

    code = "MLR009"
    name = "no-seed"
    checklist = "seeding"
    severity = "warning"
    message = "The training entry point sets no random seed"
    suggestion = "Call L.seed_everything(42, workers=True) before building the model and the data."
    fixable = True
    VALID = [
        "import lightning as L\nL.seed_everything(42, workers=True)\ntrainer = L.Trainer()\ntrainer.fit(model)\n",
        (
            "import random\nimport numpy as np\nimport torch\nrandom.seed(0)\nnp.random.seed(0)\n"
            "torch.manual_seed(0)\nfor x in loader:\n    loss = model(x)\n    loss.backward()\n"
        ),
        "import torch.nn as nn\nclass Net(nn.Module):\n    pass\n",
    ]
    INVALID = [
        "import lightning as L\ntrainer = L.Trainer(max_epochs=3)\ntrainer.fit(model)\n",
        "for x in loader:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n",
        "import torch\ntorch.manual_seed(0)\nfor x in loader:\n    loss = model(x)\n    loss.backward()\n",
        "from lightning.pytorch.cli import LightningCLI\nLightningCLI(seed_everything_default=False)\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        seeds = seed_calls(project)
        for call in seeds:
            state, where = seed_from_config(project, call)
            if state == "null":
                yield self.at(call.file, call.node, where, "Set a seed in the config (seed: 42).")
        if not project.trains or seeds:
            return
        if project.yaml_key("seed_everything") or (project.yaml_key("seed") and seed_calls(project)):
            return
        for call in project.cli_calls:
            arg = call.kw("seed_everything_default")
            if arg is None or call.kw_value("seed_everything_default") is not False:
                return
            yield self.at(call.file, arg, "LightningCLI(seed_everything_default=False) disables seeding")
            return
        torch_seed, others = trio(project)
        if torch_seed and others:
            return
        if torch_seed:
            c = torch_seed[0]
            yield self.at(
                c.file,
                c.node,
                "Only torch is seeded; numpy and random (used by augmentations and samplers) are not",
                "Use L.seed_everything(seed, workers=True), or also call random.seed and np.random.seed.",
            )
            return
        if project.trainer_calls:
            call = project.trainer_calls[0]
            fix = None
            at = seed_insertion_point(project, call)  # before the first model/data/Trainer construction
            if at is not None:
                expr, imp = lightning_import_for(call.file, "seed_everything")
                fix = Fix(
                    call.file.path,
                    [Edit(at, insert_before=[f"{expr}(42, workers=True)"])],
                    [(imp[0], imp[1], None)] if imp[0] else [],
                )
            yield self.at(call.file, call.node, "No seed_everything before the Trainer is built", fix=fix)
            return
        anchor = next(iter(project.backward_calls or project.fit_calls), None)
        if anchor is not None:
            yield self.at(
                anchor.file,
                anchor.loops[0] if anchor.loops else anchor.node,
                "The training loop runs without seeding torch, numpy and random",
                "Seed everything at the start: L.seed_everything(42, workers=True), or torch.manual_seed, "
                "np.random.seed and random.seed.",
            )

    def judge(self, project: Project) -> tuple[Status, str]:
        seeds = seed_calls(project)
        if seeds:
            state, where = seed_from_config(project, seeds[0])
            if state == "absent":
                return "unknown", where
            if state == "ok":
                return "pass", where
            return "pass", f"{seeds[0].code()} at {seeds[0].where()}"
        for doc, value, line in project.yaml_key("seed_everything"):
            return "pass", f"seed_everything: {value} at {doc.path}:{line}"
        for call in project.cli_calls:
            value = call.kw_value("seed_everything_default")
            shown = (
                f"seed_everything_default={value}"
                if call.kw("seed_everything_default")
                else "default seeding"
            )
            return "pass", f"LightningCLI ({shown}, workers seeded) at {call.where()}"
        torch_seed, _ = trio(project)
        if torch_seed:
            return "pass", f"{torch_seed[0].code()} with numpy/random seeds at {torch_seed[0].where()}"
        if project.external_run:
            return "unknown", project.external_run
        if project.lightning_modules or project.has_data or project.external_data:
            return "unknown", "no run in the reviewed code: seeding is decided where training is launched"
        return "not_applicable", "no training entry point in the reviewed code"
