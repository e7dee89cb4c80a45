"""``ab_test``: answer "is bf16 faster here?" / "which LR is better?" by measuring, with interleaved runs."""

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

NAME = "ab_test"
CHAT_REPEATS = 2
CHAT_STEPS = 8


class ABTestArgs(BaseModel):
    """Arguments of the ab_test tool."""

    question: str = Field(description="What to compare, e.g. 'is bf16 faster?' or 'lr 1e-3 or 3e-4?'.")
    code: str | None = Field(
        default=None, description="Code to measure. Empty: the latest code in the thread."
    )
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    repeats: int = Field(default=CHAT_REPEATS, ge=1, le=5)
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def _bind(ctx: ToolContext) -> Any:
    async def ab_test(
        question: str,
        code: str | None = None,
        files: dict[str, str] | None = None,
        repeats: int = CHAT_REPEATS,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        from tools.abtest import ABRequest, run_ab
        from tools.abtest.question import variants_from_question
        from tools.abtest.render import render_markdown

        resolved = resolve_files(code, files, state)
        if resolved is None:
            return failure(NAME, NO_CODE)
        target, origin = resolved
        variants = variants_from_question(question)
        if variants is None:
            return failure(
                NAME, "I can measure precision (bf16/fp16 vs fp32) and learning rates ('lr 1e-3 or 3e-4?')."
            )
        try:
            # "auto": a GPU where the sandbox has one, which the approval step below asks about first.
            request = ABRequest(
                files=target, variants=variants, repeats=repeats, steps=CHAT_STEPS, device="auto"
            )
        except ValidationError as error:
            return validation_failure(NAME, error)
        settings = ctx.settings
        runs = len(request.variants) * request.repeats
        decision, refused = approve_run(
            settings,
            tool=NAME,
            summary=f"A/B runs on {origin}: {runs} sandboxed runs of {request.steps} steps.",
            device=request.device,
            steps=(request.steps or settings.smoke_default_steps) * runs,
            timeout_s=(request.timeout_s or settings.smoke_default_timeout_s) * runs,
            files=list(request.files),
        )
        if refused:
            return refused, {"status": "not_started", "reason": refused}
        if decision is not None:
            changed = edits(decision)
            if "timeout_s" in changed:  # the user's limit is for all the runs together
                changed["timeout_s"] = max(1.0, changed["timeout_s"] / runs)
            if "steps" in changed:
                changed["steps"] = max(3, changed["steps"] // runs)
            request = request.model_copy(update=changed)
        report = await run_sandboxed_loop(ctx, run_ab, request)
        artifact = report.model_dump(mode="json")
        artifact["measured"] = origin
        return f"A/B runs of {origin}:\n\n{render_markdown(report)}", artifact

    return ab_test


SPEC = ToolSpec(
    NAME,
    "Measure instead of guessing: run variants (bf16/fp16 vs fp32, two learning rates) as interleaved A/B "
    "smoke runs with repeats; reports throughput, memory and loss with spread and says when it is noise.",
    ABTestArgs,
    _bind,
    is_async=True,
)
