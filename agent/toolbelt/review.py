"""``review_code``: the 14-item checklist review of the thread's (or the given) code, with fixes on request."""

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

NAME = "review_code"


class ReviewArgs(BaseModel):
    """Arguments of the review_code tool."""

    code: str | None = Field(default=None, description="One Python file to review. Empty: latest code.")
    files: dict[str, str] | None = Field(default=None, description="Several files: path -> text.")
    fix: bool = Field(default=False, description="Apply the safe automatic fixes and return the fixed files.")
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def review_code(
    code: str | None = None,
    files: dict[str, str] | None = None,
    fix: bool = False,
    state: dict[str, Any] | None = None,
    pool: WorkerPool | None = None,
) -> ToolOutput:
    """Review PyTorch/Lightning code against the 14-item checklist (and fix it when asked)."""
    from tools.review import ReviewRequest, render
    from tools.review.bounded import ReviewRefused, review_bounded

    resolved = resolve_files(code, files, state)
    if resolved is None:
        return failure(NAME, NO_CODE)
    target, origin = resolved
    try:
        report = review_bounded(ReviewRequest(files=target, fix=fix), pool)
    except ValidationError as error:
        return validation_failure(NAME, error)
    except ReviewRefused as refused:
        return failure(NAME, refused.message)
    artifact = report.model_dump(mode="json")
    artifact["reviewed"] = origin
    content = render(report, "markdown")
    fixed = getattr(report, "fixed_files", None)
    if fix and fixed:
        changed = {path: text for path, text in fixed.items() if target.get(path) != text}
        if changed:
            blocks = "\n\n".join(
                f"**{path}**\n```python\n{text.rstrip()}\n```" for path, text in changed.items()
            )
            content += f"\n\n### Fixed code\n\n{blocks}"
        else:
            content += "\n\nNo automatic fix applied: the remaining findings need a human decision."
    return content, artifact


def _bind(ctx: ToolContext) -> Any:
    def review_with_host_pool(
        code: str | None = None,
        files: dict[str, str] | None = None,
        fix: bool = False,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        return review_code(code, files, fix, state, pool=ctx.review_pool)

    return review_with_host_pool


SPEC = ToolSpec(NAME, "Static review of PyTorch/Lightning code (14-item checklist).", ReviewArgs, _bind)
