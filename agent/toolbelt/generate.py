"""``generate_project``: a complete Lightning project for a task, reviewed by our own checklist."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from agent.toolbelt.base import ToolContext, ToolOutput, ToolSpec, failure, validation_failure

NAME = "generate_project"
DEFAULT_BACKBONE = "resnet18"


class GenerateArgs(BaseModel):
    """Arguments of the generate_project tool."""

    task: str = Field(
        description="classification, segmentation, detection, multi_label, regression or instance_segmentation"
    )
    architecture: str | None = Field(
        default=None,
        description="model architecture by the names people use: faster-rcnn, retinanet, fcos, ssdlite, "
        "deeplabv3, deeplabv3plus, lraspp, fcn, unet, mask-rcnn (default: the task's)",
    )
    backbone: str | None = Field(default=None, description="torchvision backbone, e.g. resnet18")
    num_classes: int | None = Field(default=None, ge=1)
    image_size: int | None = Field(default=None, ge=16)
    package: Literal["lightning", "pytorch_lightning"] = "lightning"


def render_generated(result: Any) -> str:
    """The generated files, the main modules in full, and the review verdict of the generated code."""
    files: dict[str, str] = result.files
    lines = [f"### Generated project ({len(files)} files)", ""]
    lines += [f"- `{path}` ({text.count(chr(10))} lines)" for path, text in sorted(files.items())]
    for key in ("model.py", "data.py", "train.py"):
        path = next((p for p in files if p.endswith(key)), None)
        if path:
            lines += ["", f"**{path}**", "```python", files[path].rstrip(), "```"]
    review = getattr(result, "review", None)
    if review is not None:
        checklist = review.checklist if hasattr(review, "checklist") else review.get("checklist", [])
        statuses = [item.status if hasattr(item, "status") else item["status"] for item in checklist]
        lines += [
            "",
            f"Review of the generated code: {statuses.count('pass')}/{len(statuses)} checklist items pass.",
        ]
    for note in getattr(result, "notes", []) or []:
        lines.append(f"- {note}")
    lines += ["", 'Say "smoke-test it" to train it for a few steps in the sandbox.']
    return "\n".join(lines)


def resolve_architecture(task: str, name: str) -> tuple[str, str | None, list[str]]:
    """(task, generator architecture, notes) for an architecture the user named.

    A name of the task's registry is used as is; a name of exactly one other task's registry switches the task
    ("segment each cell with Mask R-CNN" is instance segmentation), said in a note; a model the generator cannot
    write (YOLO, SegFormer...) becomes the closest one it can, with the reason. None: nothing close; the
    generator's own validation then lists the valid names.
    """
    from agent.understanding.models import lookup, squash
    from tools.codegen.architectures import closest_generatable, find_architecture
    from tools.codegen.spec import SUPPORTED_TASKS

    row = find_architecture(task, name)
    if row is not None:
        return task, row.name, []
    elsewhere = [found for other in SUPPORTED_TASKS if (found := find_architecture(other, name)) is not None]
    if len(elsewhere) == 1:
        row = elsewhere[0]
        note = f"{row.title} is a model for {row.task.replace('_', ' ')}, so this is a `{row.task}` project."
        return row.task, row.name, [note]
    ref = lookup(squash(name))
    closest = closest_generatable(task, ref.knowledge_id) if ref is not None and ref.knowledge_id else None
    if closest is not None:
        row, why = closest
        note = f"I can't generate {ref.name if ref else name}: {why}. This is the closest I can write, {row.title}."
        return task, row.name, [note]
    return task, name, []


def generate_project(
    task: str,
    architecture: str | None = None,
    backbone: str | None = None,
    num_classes: int | None = None,
    image_size: int | None = None,
    package: str = "lightning",
) -> ToolOutput:
    """Write a complete Lightning project (config, model, data, train, export) for a task."""
    from tools.codegen import GenerateSpec, allowed_backbones, generate
    from tools.codegen.architectures import find_architecture
    from tools.codegen.spec import SUPPORTED_TASKS

    chosen_notes: list[str] = []
    architecture_notes: list[str] = []  # a changed task or a substituted model: said first, not in the list
    if architecture is not None and task in SUPPORTED_TASKS:
        task, architecture, architecture_notes = resolve_architecture(task, architecture)

    if num_classes is None and task != "regression":  # a regression predicts one number unless told
        counted = "labels" if task == "multi_label" else "classes"
        return failure(
            NAME,
            f'how many {counted} should the {task} model predict? Say, for example, "with 10 {counted}".',
        )
    row = find_architecture(task, architecture) if architecture and task in SUPPORTED_TASKS else None
    if backbone is None and task in SUPPORTED_TASKS and (row is None or row.backbones()):
        # A small, well-understood default that trains quickly; the user can ask for another one.
        allowed = row.backbones() if row is not None else allowed_backbones(task)
        backbone = (
            DEFAULT_BACKBONE if DEFAULT_BACKBONE in allowed else (row.default_backbone if row else allowed[0])
        )
        if backbone is not None and len(allowed) > 1:
            chosen_notes.append(
                f"No backbone was named, so I used `{backbone}`; ask for another one any time."
            )
    values: dict[str, Any] = {"task": task, "package": package}
    if architecture is not None:
        values["architecture"] = architecture
    if num_classes is not None:
        values["num_classes"] = num_classes
    for key, value in (("backbone", backbone), ("image_size", image_size)):
        if value is not None:
            values[key] = value
    try:
        result = generate(GenerateSpec(**values))
    except (ValidationError, ValueError) as error:
        return validation_failure(NAME, error)
    result.notes[:0] = architecture_notes + chosen_notes
    lead = "".join(f"**Note:** {note}\n\n" for note in architecture_notes)
    return lead + render_generated(result), result.model_dump(mode="json")


def _bind(ctx: ToolContext) -> Any:
    return generate_project


SPEC = ToolSpec(NAME, "Generate a complete Lightning project.", GenerateArgs, _bind)
