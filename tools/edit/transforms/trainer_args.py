"""Keyword edits of the Trainer: precision, gradient clipping, accelerator/devices/strategy."""

from __future__ import annotations

import re

from tools.edit.models import DevicesEdit, GradientClippingEdit, PrecisionEdit
from tools.edit.source import Project, methods
from tools.edit.transforms.common import Outcome, adding_method, set_trainer_kwargs
from tools.review.rules.base import Edit


def precision(spec: PrecisionEdit, project: Project) -> Outcome:
    out = Outcome()
    set_trainer_kwargs(project, out, "precision", [("precision", f'"{spec.value}"')])
    if spec.value == "16-mixed" and out.fixes:
        out.applied.append(
            'fp16 ("16-mixed") uses a gradient scaler; on Ampere or newer GPUs "bf16-mixed" needs none'
        )
    if spec.value == "bf16-mixed" and out.fixes:
        out.applied.append("bf16 needs an Ampere or newer GPU (or a CPU); older GPUs emulate it slowly")
    return out


def gradient_clipping(spec: GradientClippingEdit, project: Project) -> Outcome:
    out = Outcome()
    if any(re.search(r"automatic_optimization\s*=\s*False", f.text) for f in project.files.values()):
        out.skipped.append(
            "gradient clipping: the module uses manual optimization (automatic_optimization = False), where "
            "Trainer(gradient_clip_val=...) does not apply; call self.clip_gradients(opt, gradient_clip_val="
            f"{spec.value}) before opt.step()"
        )
        return out
    if not project.trainer_calls() and project.lightning_modules():
        _clip_in_the_module(spec, project, out)
        return out
    pairs = [("gradient_clip_val", repr(spec.value))]
    if spec.algorithm == "value" or any(
        "gradient_clip_algorithm" in f.code(s.node) for f, s in project.trainer_calls()
    ):
        pairs.append(("gradient_clip_algorithm", f'"{spec.algorithm}"'))
    set_trainer_kwargs(project, out, "gradient clipping", pairs)
    return out


def devices(spec: DevicesEdit, project: Project) -> Outcome:
    out = Outcome()
    pairs: list[tuple[str, str]] = []
    if spec.accelerator is not None:
        pairs.append(("accelerator", f'"{spec.accelerator}"'))
    if spec.devices is not None:
        pairs.append(
            ("devices", repr(spec.devices) if isinstance(spec.devices, int) else f'"{spec.devices}"')
        )
    if spec.strategy is not None:
        pairs.append(("strategy", f'"{spec.strategy}"'))
    set_trainer_kwargs(project, out, "devices", pairs)
    if out.fixes and spec.strategy in ("ddp", "fsdp", "deepspeed"):
        guarded = any(
            '__name__ == "__main__"' in f.text or "__name__ == '__main__'" in f.text
            for f in project.files.values()
        )
        if not guarded:
            out.applied.append(
                f"{spec.strategy} starts one process per device: run it as a script with an "
                'if __name__ == "__main__": guard (not in a notebook)'
            )
    if out.fixes and spec.accelerator == "cpu":
        precisions = [
            f.code(a.value)
            for f, s in project.trainer_calls()
            for a in s.node.args
            if a.keyword and a.keyword.value == "precision"
        ]
        if any("16-mixed" in p and "bf16" not in p for p in precisions):
            out.applied.append(
                'on the CPU Lightning runs "16-mixed" as bf16; say "use bf16" to make that explicit'
            )
    return out


def _clip_in_the_module(spec: GradientClippingEdit, project: Project, out: Outcome) -> None:
    """No Trainer in the code (a module submitted on its own, trained by a smoke run or another script): clip in
    the LightningModule's ``configure_gradient_clipping`` hook, which every Trainer calls; a Trainer's own
    ``gradient_clip_val`` still wins when one is set."""
    for f, cls in project.lightning_modules():
        if "configure_gradient_clipping" in methods(cls):
            out.skipped.append(
                f"gradient clipping: {cls.name.value} ({f.where(cls)}) already overrides configure_gradient_clipping"
            )
            continue
        method = (
            "def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):\n"
            f"    # Clip here because no Trainer in this code sets gradient_clip_val={spec.value!r}.\n"
            "    self.clip_gradients(\n"
            "        optimizer,\n"
            f"        gradient_clip_val={spec.value!r} if gradient_clip_val is None else gradient_clip_val,\n"
            f'        gradient_clip_algorithm="{spec.algorithm}" if gradient_clip_algorithm is None else gradient_clip_algorithm,\n'
            "    )\n"
        )
        out.edit(f.path, Edit(cls, replace=adding_method(method)))
        out.applied.append(
            f"{f.where(cls)}: no Trainer in the code, so {cls.name.value}.configure_gradient_clipping clips "
            f"gradients ({spec.algorithm}, gradient_clip_val={spec.value!r}) on every Trainer that trains it"
        )
