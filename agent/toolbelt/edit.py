"""``edit_code``: LibCST edits of the thread's code on request, with the diff and the re-review."""

from __future__ import annotations

from typing import Annotated, Any

from langgraph.prebuilt import InjectedState
from pydantic import BaseModel, Field, ValidationError

from agent.toolbelt.base import (
    NO_CODE,
    ToolContext,
    ToolOutput,
    ToolSpec,
    failure,
    resolve_files,
    validation_failure,
)
from tools.workers import WorkerPool

NAME = "edit_code"


class EditArgs(BaseModel):
    """Arguments of the edit_code tool."""

    instruction: str = Field(
        min_length=1,
        max_length=2000,
        description='What to change, in words: "make it use bf16", "add early stopping".',
    )
    code: str | None = Field(default=None, description="Code to edit. Empty: the latest code in the thread.")
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def render_edit_result(result: Any) -> str:
    """Markdown of an edit: what changed where, what could not be done, the diff and the review delta."""
    lines = ["### Edits"]
    lines += [f"- {sentence}" for sentence in result.applied] or ["- Nothing changed."]
    if result.skipped:
        lines += ["", "**Not done:**", *[f"- {sentence}" for sentence in result.skipped]]
    if result.diff:
        lines += ["", "```diff", result.diff.rstrip(), "```"]
    if result.score_before is not None and result.score_after is not None:
        lines += ["", f"Review score {result.score_before:g} -> {result.score_after:g}."]
    changed = [c for c in result.checklist if c.before != c.after]
    if changed:
        lines += [f"- `{c.id}`: {c.before} -> {c.after}" for c in changed]
    if result.diff:
        lines += [
            "",
            'The edited code is now the code of this conversation: say "smoke-test it" to train it.',
        ]
    return "\n".join(lines)


def edit_code(
    instruction: str,
    code: str | None = None,
    files: dict[str, str] | None = None,
    state: dict[str, Any] | None = None,
    pool: WorkerPool | None = None,
) -> ToolOutput:
    """Apply LibCST edits the instruction asks for to the code, show the diff and re-review the result."""
    from tools.edit import EditRequest, describe_supported, parse_instruction
    from tools.edit import edit_code as run_edit
    from tools.workers import WorkerError

    resolved = resolve_files(code, files, state)
    if resolved is None:
        return failure(NAME, NO_CODE)
    target, origin = resolved
    if not parse_instruction(instruction):
        return failure(
            NAME, f"I did not recognise an edit in that request. I can do these:\n\n{describe_supported()}"
        )
    try:
        request = EditRequest(files=target, instruction=instruction)
        # Editing parses the user's code with LibCST: in the server that happens in a bounded worker.
        result = pool.call("tools.edit:edit_code", request) if pool else run_edit(request)
    except ValidationError as error:
        return validation_failure(NAME, error)
    except WorkerError as error:
        return failure(NAME, f"the edit was stopped: {error}")
    artifact = result.model_dump(mode="json")
    artifact["edited"] = origin
    return render_edit_result(result), artifact


def _bind(ctx: ToolContext) -> Any:
    def edit_with_host_pool(
        instruction: str,
        code: str | None = None,
        files: dict[str, str] | None = None,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        return edit_code(instruction, code, files, state, pool=ctx.review_pool)

    return edit_with_host_pool


SPEC = ToolSpec(
    NAME,
    "Edit the thread's code on request (precision/bf16, early stopping, cosine warm-up schedule, focal "
    "loss, MLflow logger, freeze backbone, clipping, seed, optimizer/lr, batch size, devices); shows the "
    "diff and re-reviews.",
    EditArgs,
    _bind,
)
