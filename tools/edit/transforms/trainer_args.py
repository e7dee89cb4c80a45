"""Keyword edits of the Trainer: precision, gradient clipping, accelerator/devices/strategy."""

from __future__ import annotations

import re

from tools.edit.models import DevicesEdit, GradientClippingEdit, PrecisionEdit
from tools.edit.source import Project
from tools.edit.transforms.common import Outcome, set_trainer_kwargs


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
