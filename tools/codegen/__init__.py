"""Code generation: a complete, tested PyTorch Lightning project for a CV task from a ``GenerateSpec``.

``generate(spec)`` renders the files (nothing is written or executed) and attaches the static review of them;
``write_project(files, out_dir, force=...)`` puts them on disk for the CLI.
"""

from __future__ import annotations

from pathlib import Path

from tools.codegen.architectures import Architecture, architectures, listing
from tools.codegen.generator import TASK_PARTS, render_project
from tools.codegen.new_tasks import NEW_TASK_PARTS
from tools.codegen.spec import GenerateResult, GenerateSpec, allowed_backbones

TASK_PARTS.update(NEW_TASK_PARTS)

__all__ = [
    "Architecture",
    "GenerateResult",
    "GenerateSpec",
    "allowed_backbones",
    "architectures",
    "generate",
    "listing",
    "write_project",
]


def _review(files: dict[str, str]) -> tuple[dict[str, object] | None, str | None]:
    """The review engine's report on the generated files (imported lazily: it is a separate tool)."""
    try:
        from tools.review import ReviewRequest, review
    except ImportError as error:  # the review tool is optional for generation
        return None, f"review skipped: the review engine is not importable ({error})"
    report = review(ReviewRequest(files={p: t for p, t in files.items() if p.endswith((".py", ".yaml"))}))
    return report.model_dump(mode="json"), None


def generate(spec: GenerateSpec) -> GenerateResult:
    """Render the project for ``spec`` and review it. Pure: no files written, no code executed."""
    if spec.task not in TASK_PARTS:
        raise ValueError(f"task {spec.task!r} is not generated yet; available: {', '.join(TASK_PARTS)}")
    files = render_project(spec)
    notes = [
        f"{spec.task} project: {spec.arch.title}"
        + (f" on {spec.backbone}" if spec.backbone else "")
        + f" at {spec.effective_image_size}px for {spec.num_classes} "
        + f"{TASK_PARTS[spec.task].count_field.removeprefix('num_')}, importing {spec.package}.",
        "Run `pytest -q` in the project for a short CPU training of its smoke profile (tiny synthetic data, "
        "small images); `mlagent smoke DIR` trains the same profile in the sandbox.",
    ]
    if not spec.pretrained and not spec.coco_pretrained and spec.backbone:
        notes.append(
            "pretrained=false: nothing is downloaded; set model.pretrained=true to fine-tune ImageNet weights."
        )
    if spec.arch.coco_weights and spec.arch.uses_builder(spec.backbone) and not spec.coco_pretrained:
        notes.append(
            "torchvision has COCO weights for this model: set model.coco_pretrained=true (or generate with "
            "--coco-pretrained) to start from them; the run downloads them once."
        )
    report = None
    if spec.review:
        report, problem = _review(files)
        if problem:
            notes.append(problem)
    return GenerateResult(spec=spec, files=files, review=report, notes=notes)


def write_project(files: dict[str, str], out_dir: Path, force: bool = False) -> list[Path]:
    """Write the files under ``out_dir``; refuses a non-empty directory unless ``force``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise FileExistsError(f"{out_dir} is not empty (use --force to overwrite)")
    written = []
    for rel, text in sorted(files.items()):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
