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


def generate_project(
    task: str,
    backbone: str | None = None,
    num_classes: int | None = None,
    image_size: int | None = None,
    package: str = "lightning",
) -> ToolOutput:
    """Write a complete Lightning project (config, model, data, train, export) for a task."""
    from tools.codegen import GenerateSpec, allowed_backbones, generate
    from tools.codegen.spec import SUPPORTED_TASKS

    if num_classes is None and task != "regression":  # a regression predicts one number unless told
        counted = "labels" if task == "multi_label" else "classes"
        return failure(
            NAME,
            f'how many {counted} should the {task} model predict? Say, for example, "with 10 {counted}".',
        )
    chosen_notes: list[str] = []
    if backbone is None and task in SUPPORTED_TASKS:
        # A small, well-understood default that trains quickly; the user can ask for another one.
        backbone = (
            DEFAULT_BACKBONE if DEFAULT_BACKBONE in allowed_backbones(task) else allowed_backbones(task)[0]
        )
        chosen_notes.append(f"No backbone was named, so I used `{backbone}`; ask for another one any time.")
    values: dict[str, Any] = {"task": task, "package": package}
    if num_classes is not None:
        values["num_classes"] = num_classes
    for key, value in (("backbone", backbone), ("image_size", image_size)):
        if value is not None:
            values[key] = value
    try:
        result = generate(GenerateSpec(**values))
    except (ValidationError, ValueError) as error:
        return validation_failure(NAME, error)
    result.notes[:0] = chosen_notes
    return render_generated(result), result.model_dump(mode="json")


def _bind(ctx: ToolContext) -> Any:
    return generate_project


SPEC = ToolSpec(NAME, "Generate a complete Lightning project.", GenerateArgs, _bind)
