"""``fix_run``: make the thread's code train: run it in the sandbox, diagnose, repair, re-run (bounded)."""

from __future__ import annotations

from typing import Annotated, Any

from langgraph.prebuilt import InjectedState
from pydantic import BaseModel, Field, ValidationError

from agent.approval import approve_run, edits
from agent.toolbelt.base import (
    NO_CODE,
    ToolContext,
    ToolOutput,
    ToolSpec,
    failure,
    resolve_files,
    run_sandboxed_loop,
    validation_failure,
)

NAME = "fix_run"
# A chat turn waits for the loop: fewer repairs and a tighter budget than the CLI's defaults.
CHAT_ATTEMPTS = 3
CHAT_BUDGET_S = 420.0


class FixRunArgs(BaseModel):
    """Arguments of the fix_run tool."""

    code: str | None = Field(
        default=None, description="Code to repair. Empty: the latest code in the thread."
    )
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    attempts: int = Field(
        default=CHAT_ATTEMPTS, ge=0, le=5, description="Repairs to try after the first run."
    )
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def _bind(ctx: ToolContext) -> Any:
    async def fix_run(
        code: str | None = None,
        files: dict[str, str] | None = None,
        attempts: int = CHAT_ATTEMPTS,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        from tools.fixrun.loop import fix_run as run_loop
        from tools.fixrun.models import FixRunRequest
        from tools.fixrun.render import render_markdown

        resolved = resolve_files(code, files, state)
        if resolved is None:
            return failure(NAME, NO_CODE)
        target, origin = resolved
        try:
            request = FixRunRequest(files=target, attempts=attempts, budget_s=CHAT_BUDGET_S)
        except ValidationError as error:
            return validation_failure(NAME, error)
        settings = ctx.settings
        decision, refused = approve_run(
            settings,
            tool=NAME,
            summary=f"A repair loop on {origin}: up to {request.attempts + 1} sandboxed runs.",
            device=request.device,
            steps=(request.steps or settings.smoke_default_steps) * (request.attempts + 1),
            timeout_s=request.budget_s,
            files=list(request.files),
        )
        if refused:
            return refused, {"status": "not_started", "reason": refused}
        request = request.model_copy(update=edits(decision, timeout_s="budget_s"))
        report = await run_sandboxed_loop(ctx, run_loop, request)
        artifact = report.model_dump(mode="json")
        artifact["repaired"] = origin
        return f"Repair loop on {origin}:\n\n{render_markdown(report)}", artifact

    return fix_run


SPEC = ToolSpec(
    NAME,
    "Make code train: run it in the sandbox, diagnose the failure from the run's result, repair it with a code "
    "edit, and re-run, up to a few attempts. Reports every attempt, the diffs, the final code and loss curves.",
    FixRunArgs,
    _bind,
    is_async=True,
)
