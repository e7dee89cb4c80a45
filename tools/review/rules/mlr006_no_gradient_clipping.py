"""MLR006: gradient clipping is enabled."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.entry_points import sites_missing
from tools.review.index import MISSING, literal
from tools.review.models import Status
from tools.review.project import Project
from tools.review.rules.base import Edit, Fix, Hit, PrimaryRule

_CLIP_CALLS = ("clip_grad_norm_", "clip_grad_value_", "clip_grad_norm", "clip_gradients")


class NoGradientClipping(PrimaryRule):
    """Training runs without gradient clipping.

    One batch with an exploding gradient (a bad label, a fp16 overflow, a high learning rate at the start of
    fine-tuning) can wreck the weights for the rest of the run; clipping the global gradient norm is cheap
    insurance. Checked: ``Trainer(gradient_clip_val=...)`` in code, ``LightningCLI(trainer_defaults=...)``
    and trainer YAML configs; ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` in hand-written loops;
    ``self.clip_gradients`` under manual optimization. ``gradient_clip_val=0`` or ``None`` disables clipping.
    When the Trainer takes ``**kwargs`` from a config that was not given, the item is unknown.
    """

    code = "MLR006"
    name = "no-gradient-clipping"
    checklist = "gradient-clipping"
    severity = "warning"
    message = "Training runs without gradient clipping"
    suggestion = (
        "Pass gradient_clip_val=1.0 to the Trainer (or call clip_grad_norm_ between backward and step)."
    )
    fixable = True
    VALID = [
        "import lightning as L\ntrainer = L.Trainer(max_epochs=10, gradient_clip_val=1.0)\n",
        (
            "import torch\nfor x, y in loader:\n    loss = model(x).mean()\n    loss.backward()\n"
            "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n    opt.step()\n"
        ),
        "from pytorch_lightning import Trainer as T\ntrainer = T(**cfg.trainer)\n",
        {
            "train.py": "import hydra\ntrainer = hydra.utils.instantiate(cfg.trainer)\n",
            "configs/trainer/default.yaml": "_target_: lightning.pytorch.trainer.Trainer\ngradient_clip_val: 0.5\n",
        },
    ]
    INVALID = [
        "import lightning as L\ntrainer = L.Trainer(max_epochs=10)\n",
        "import pytorch_lightning as pl\ntrainer = pl.Trainer(gradient_clip_val=0)\n",
        "for x, y in loader:\n    loss = model(x).mean()\n    loss.backward()\n    opt.step()\n",
        "from lightning.pytorch.cli import LightningCLI\nLightningCLI(trainer_defaults={'max_epochs': 5})\n",
    ]

    def _clip_calls(self, project: Project) -> list:
        return [c for c in project.calls_named(_CLIP_CALLS) if c.raw != "self.configure_gradient_clipping"]

    def check(self, project: Project) -> Iterable[Hit]:
        clips = self._clip_calls(project)
        if clips:
            yield from self._bad_clips(project, clips)
            return
        if any("configure_gradient_clipping" in c.methods for c in project.classes):
            return
        manual = any(
            a.target == "self.automatic_optimization" and literal(a.value) is False
            for f in project.files
            for a in f.assignments
        )
        if project.trainer_sites and not manual:
            found, any_open = project.trainer_setting("gradient_clip_val")
            unclipped = sites_missing(project, "gradient_clip_val")
            for site in unclipped:  # another entry point's clipping does not cover this one
                assert site.call is not None
                add = Fix(site.path, [Edit(site.call.node, add_kwargs=[("gradient_clip_val", "1.0")])])
                yield self.at(
                    site.call.file, site.call.node, f"{site.label} sets no gradient_clip_val", fix=add
                )
            if unclipped:
                return
            if any(s.value is MISSING or s.value not in (0, 0.0, None) for _, s in found):
                return
            if any(s.from_missing_config for _, s in found):
                return
            for site, setting in found:
                fix = None
                if site.call is not None and setting.node is not None:
                    arg = site.call.kw("gradient_clip_val")
                    if arg is not None:
                        fix = Fix(
                            site.path,
                            [
                                Edit(
                                    site.call.node,
                                    add_kwargs=[("gradient_clip_val", "1.0")],
                                    remove_kwargs=["gradient_clip_val"],
                                )
                            ],
                        )
                hit = self._site_hit(
                    project, site, f"gradient_clip_val={setting.code} disables gradient clipping"
                )
                hit.fix = fix
                yield hit
            if found or any_open:
                return
            for site in project.trainer_sites:
                fix = None
                if site.call is not None and site.call.short == "Trainer":
                    fix = Fix(site.path, [Edit(site.call.node, add_kwargs=[("gradient_clip_val", "1.0")])])
                hit = self._site_hit(project, site, f"{site.label} sets no gradient_clip_val")
                hit.fix = fix
                yield hit
            return
        loops = project.backward_calls
        if loops:
            call = loops[0]
            yield self.at(
                call.file,
                call.node,
                "Hand-written loop calls backward() without clipping gradients",
                "Call torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) after backward() "
                "(after scaler.unscale_(optimizer) when using AMP).",
            )
        elif manual:
            for cls in project.lightning_modules:
                step = project.method(cls, "training_step")
                if step is not None and any(c.short == "manual_backward" for c in step.calls):
                    f = project.class_file(cls)
                    yield self.at(
                        f,
                        step.node.name,
                        f"{cls.name} uses manual optimization without clipping; Trainer(gradient_clip_val) "
                        "does not apply there",
                        "Call self.clip_gradients(opt, gradient_clip_val=1.0, gradient_clip_algorithm='norm') "
                        "after self.manual_backward(loss).",
                    )

    def _bad_clips(self, project: Project, clips: list) -> Iterable[Hit]:  # type: ignore[type-arg]
        """Clipping that does not clip: scaled gradients (GradScaler without unscale_) or max_norm=inf."""
        scaler = bool(project.calls_named("GradScaler"))
        unscale = bool(project.calls_named("unscale_"))
        for call in clips:
            norm = call.kw("max_norm") or call.kw("clip_value")
            code = (
                call.file.code(norm.value)
                if norm is not None
                else call.file.code(call.positional(1) or call.node)
            )
            if "inf" in code.lower():
                yield self.at(
                    call.file, call.node, f"{call.code(60)} uses an infinite norm: it measures, not clips"
                )
            elif scaler and not unscale and call.short in {"clip_grad_norm_", "clip_grad_value_"}:
                yield self.at(
                    call.file,
                    call.node,
                    f"{call.code(60)} clips fp16-scaled gradients (no scaler.unscale_(optimizer) first)",
                    "Call scaler.unscale_(optimizer) before clip_grad_norm_, then scaler.step(optimizer).",
                )

    def _site_hit(self, project: Project, site, message: str) -> Hit:  # type: ignore[no-untyped-def]
        if site.call is not None:
            return self.at(site.call.file, site.call.node, message)
        return Hit(site.path, site.line, 1, site.line, 1, message)

    def judge(self, project: Project) -> tuple[Status, str]:
        clips = self._clip_calls(project)
        if clips:
            return "pass", f"{clips[0].code()} at {clips[0].where()}"
        for cls in project.classes:
            if "configure_gradient_clipping" in cls.methods:
                return "pass", f"{cls.name}.configure_gradient_clipping at {project.class_file(cls).path}"
        found, any_open = project.trainer_setting("gradient_clip_val")
        if found:
            _site, setting = found[0]
            if setting.from_missing_config:
                return "unknown", f"gradient_clip_val={setting.code} comes from a config that was not given"
            return "pass", f"gradient_clip_val={setting.code} at {setting.where}"
        level = project.run_level()
        if level is not None:
            return level
        if any_open:
            opened = next(s for s in project.trainer_sites if s.open)
            return (
                "unknown",
                f"{opened.label} at {opened.where()} takes its arguments from a config not reviewed",
            )
        if project.lightning_modules:
            return (
                "unknown",
                "no Trainer in the reviewed code: clipping is decided where the Trainer is built",
            )
        return "not_applicable", "no training loop or Trainer in the reviewed code"
