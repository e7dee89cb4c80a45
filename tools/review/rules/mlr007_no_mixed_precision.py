"""MLR007: mixed precision where a GPU is the target."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.entry_points import sites_missing
from tools.review.index import MISSING
from tools.review.models import Status
from tools.review.project import Project, Setting
from tools.review.rules.base import Edit, Fix, Hit, PrimaryRule

MIXED = {
    "16-mixed",
    "bf16-mixed",
    "16",
    "bf16",
    16,
    "bf16-true",
    "16-true",
    "transformer-engine",
    "transformer-engine-float16",
    "64-true",
}
FULL = {32, "32", "32-true", 64, "64"}
_AMP = ("autocast", "GradScaler")


def _gpu_target(project: Project) -> bool:
    strings = any("cuda" in value for f in project.files for _, value in f.strings)
    return strings or any(c.short == "cuda" for c in project.calls)


def fabric_precision(project: Project) -> Setting | None:
    """``Fabric(precision="bf16-mixed")``: mixed precision for a Fabric loop."""
    for call in project.calls_named("Fabric"):
        arg = call.kw("precision")
        if arg is not None and (call.kw_value("precision") in MIXED or call.kw_value("precision") is MISSING):
            return Setting("precision", call.kw_value("precision"), call.file.code(arg.value), call.where())
    return None


class NoMixedPrecision(PrimaryRule):
    """Training on a GPU runs in full fp32 precision.

    Mixed precision (``precision="16-mixed"``, or ``"bf16-mixed"`` on Ampere and newer) roughly halves
    activation memory and doubles throughput on tensor cores at no accuracy cost for CV models. On a CPU-only
    machine Lightning falls back from ``16-mixed`` to ``bf16-mixed`` by itself. ``accelerator="cpu"`` makes the
    item not applicable; hand-written loops need ``torch.autocast`` (and a ``GradScaler`` for fp16).
    """

    code = "MLR007"
    name = "no-mixed-precision"
    checklist = "mixed-precision"
    severity = "warning"
    message = "GPU training without mixed precision"
    suggestion = 'Pass precision="16-mixed" (or "bf16-mixed" on Ampere+ GPUs) to the Trainer.'
    fixable = True
    VALID = [
        "import lightning as L\ntrainer = L.Trainer(precision='16-mixed')\n",
        "import lightning as L\ntrainer = L.Trainer(accelerator='cpu')\n",
        (
            "import torch\nmodel.cuda()\nscaler = torch.amp.GradScaler()\nfor x in loader:\n"
            "    with torch.autocast('cuda'):\n        loss = model(x)\n    scaler.scale(loss).backward()\n"
        ),
    ]
    INVALID = [
        "import lightning as L\ntrainer = L.Trainer(accelerator='gpu', devices=2)\n",
        "import pytorch_lightning as pl\ntrainer = pl.Trainer(precision=32)\n",
        "model = model.to('cuda')\nfor x in loader:\n    loss = model(x.cuda())\n    loss.backward()\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if project.trainer_sites:
            for site in project.trainer_sites:
                for key in ("amp_backend", "amp_level"):
                    if key in site.settings and site.call is not None:
                        yield self.at(
                            site.call.file, site.call.node, f"Trainer({key}=...) was removed; use precision="
                        )
            found, any_open = project.trainer_setting("precision")
            full = [
                site
                for site in sites_missing(project, "precision")
                if site.settings.get("accelerator") is None or site.settings["accelerator"].value != "cpu"
            ]
            for site in full:  # another entry point's precision does not cover this one
                assert site.call is not None
                yield self.at(
                    site.call.file,
                    site.call.node,
                    f"{site.label} sets no precision: it trains in fp32",
                    fix=Fix(site.path, [Edit(site.call.node, add_kwargs=[("precision", '"16-mixed"')])]),
                )
            if full:
                return
            if any(s.value is MISSING or s.value in MIXED for _, s in found):
                return
            if any(s.from_missing_config for _, s in found):
                return
            accel, _ = project.trainer_setting("accelerator")
            if accel and all(s.value == "cpu" for _, s in accel):
                return
            for site, setting in found:
                hit = Hit(site.path, site.line, message=f"precision={setting.code} trains in full precision")
                if site.call is not None:
                    hit = self.at(site.call.file, site.call.node, hit.message)
                    hit.fix = Fix(
                        site.path,
                        [
                            Edit(
                                site.call.node,
                                add_kwargs=[("precision", '"16-mixed"')],
                                remove_kwargs=["precision"],
                            )
                        ],
                    )
                yield hit
            if found or any_open:
                return
            for site in project.trainer_sites:
                if site.call is not None and site.call.short == "Trainer":
                    yield self.at(
                        site.call.file,
                        site.call.node,
                        f"{site.label} sets no precision: it trains in fp32",
                        fix=Fix(site.path, [Edit(site.call.node, add_kwargs=[("precision", '"16-mixed"')])]),
                    )
                elif site.call is not None:
                    yield self.at(site.call.file, site.call.node, f"{site.label} sets no precision")
                else:
                    yield Hit(site.path, site.line, message=f"{site.label} sets no precision")
            return
        autocasts = project.calls_named("autocast")
        if autocasts and not project.calls_named("GradScaler"):
            for call in autocasts:
                if "float16" in call.code(500) and "bfloat16" not in call.code(500):
                    yield self.at(
                        call.file,
                        call.node,
                        "float16 autocast without a GradScaler: small gradients underflow to zero",
                        "Use torch.amp.GradScaler with float16 (scaler.scale(loss).backward(); scaler.step(opt)), "
                        "or autocast to bfloat16.",
                    )
                    return
        if fabric_precision(project) is not None:
            return
        if project.backward_calls and _gpu_target(project) and not project.calls_named(_AMP):
            call = project.backward_calls[0]
            yield self.at(
                call.file,
                call.node,
                "The loop trains on CUDA without torch.autocast",
                "Wrap the forward pass and loss in torch.autocast('cuda', dtype=torch.bfloat16) (fp16 also needs "
                "torch.amp.GradScaler).",
            )

    def judge(self, project: Project) -> tuple[Status, str]:
        found, any_open = project.trainer_setting("precision")
        accel, _ = project.trainer_setting("accelerator")
        if found and found[0][1].from_missing_config:
            return "unknown", f"precision={found[0][1].code} comes from a config that was not given"
        if found and (found[0][1].value is MISSING or found[0][1].value in MIXED):
            return "pass", f"precision={found[0][1].code} at {found[0][1].where}"
        if accel and all(s.value == "cpu" for _, s in accel):
            return "not_applicable", f"accelerator={accel[0][1].code} at {accel[0][1].where}: CPU training"
        if found:
            return "pass", f"precision={found[0][1].code} at {found[0][1].where}"
        level = project.run_level()
        if level is not None:
            return level
        if any_open:
            return "unknown", "the Trainer's precision comes from a config that was not reviewed"
        fabric = fabric_precision(project)
        if fabric is not None:
            return "pass", f"Fabric(precision={fabric.code}) at {fabric.where}"
        amp = project.calls_named(_AMP)
        if amp:
            return "pass", f"{amp[0].code()} at {amp[0].where()}"
        if project.lightning_modules:
            return "unknown", "no Trainer in the reviewed code: precision is set where the Trainer is built"
        if project.backward_calls:
            return "not_applicable", "the hand-written loop runs on the CPU"
        return "not_applicable", "no training in the reviewed code"
