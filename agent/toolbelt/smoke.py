"""``smoke_run``: train the thread's (or the given) code for a few steps in the sandbox."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

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
    validation_failure,
)
from tools.smoke import SmokeRunRequest, smoke_policy

NAME = "smoke_run"
DeviceChoice = Literal["auto", "cpu", "cuda"]


class SmokeArgs(BaseModel):
    """Arguments of the smoke_run tool."""

    code: str | None = Field(default=None, description="Code to train. Empty: the latest code in the thread.")
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    steps: int | None = Field(default=None, ge=1, le=1000, description="Optimisation steps (default 20).")
    device: DeviceChoice = "auto"
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def render_smoke_result(result: Any) -> str:
    """Markdown verdict and metrics table of a smoke run, shared by the agent and the CLI."""
    verdict = {
        "succeeded": "✅ **It trains.**",
        "failed": "❌ **The run failed.**",
        "timeout": "⏱️ **The run hit its time limit.**",
        "oom": "💥 **The run ran out of memory.**",
        "cancelled": "⏹️ **The run was cancelled.**",
        "rejected": "🚫 **The run was refused.**",
    }.get(result.status, f"Status: **{result.status}**")
    rows = [
        ("status", result.status),
        ("device", result.device or "-"),
        ("steps", str(result.steps)),
        ("first → last loss", f"{result.losses[0]:.4f} → {result.losses[-1]:.4f}" if result.losses else "-"),
        ("loss decreased", {True: "yes", False: "no", None: "-"}[result.loss_decreased]),
        ("samples/s", f"{result.samples_per_s:.1f}" if result.samples_per_s else "-"),
        ("peak RAM (MB)", f"{result.peak_memory_mb:.0f}" if result.peak_memory_mb else "-"),
        ("duration (s)", f"{result.duration_s:.1f}"),
        ("experiment", result.experiment_id or "-"),
    ]
    table = "\n".join(["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    parts = [verdict, "", table]
    if result.error:
        parts += ["", "**Error:**", "```text", result.error.strip(), "```"]
    if result.status == "succeeded" and result.loss_decreased is False:
        parts += [
            "",
            "The loss did not go down over these steps: check the learning rate and the loss/target pairing.",
        ]
    return "\n".join(parts)


def plan_smoke_request(
    ctx: ToolContext, files: dict[str, str], steps: int | None, device: DeviceChoice
) -> SmokeRunRequest:
    """The smoke run the tool would start, under the one policy the CLI and API use (``tools.smoke.smoke_policy``)."""
    default_steps, timeout_s, _ = smoke_policy(files, ctx.settings)
    return SmokeRunRequest(files=files, steps=steps or default_steps, timeout_s=timeout_s, device=device)


def _approved(ctx: ToolContext, request: SmokeRunRequest, origin: str) -> tuple[SmokeRunRequest, str | None]:
    """The request as the user approved (or edited) it, or a reason it must not run.

    Costly runs (a GPU, or over the step/time budget) pause the turn here until the user decides; the
    graph re-enters this tool call with the decision when the turn resumes.
    """
    decision, refused = approve_run(
        ctx.settings,
        tool=NAME,
        summary=f"A sandboxed smoke run of {origin}.",
        device=request.device,
        steps=request.steps or 1,
        timeout_s=request.timeout_s or ctx.settings.smoke_default_timeout_s,
        files=list(request.files),
    )
    if refused:
        return request, refused
    changes = edits(decision)
    return (request.model_copy(update=changes) if changes else request), None


def _progress_writer() -> Any:
    """A thread-safe callback that streams a run's step events into the chat stream ("progress" events).

    Outside a streamed graph run LangGraph's writer does nothing, so one-shot turns pay nothing for it.
    """
    from langgraph.config import get_stream_writer

    try:
        writer = get_stream_writer()
    except RuntimeError:  # not inside a graph run (direct calls in tests and scripts)
        return None
    loop = asyncio.get_running_loop()

    def forward(event: dict[str, Any]) -> None:
        if event.get("type") not in {"step", "status"}:
            return
        payload = {"tool": NAME, **{k: v for k, v in event.items() if not k.startswith("_")}}
        loop.call_soon_threadsafe(writer, payload)

    return forward


async def run_smoke_for_host(ctx: ToolContext, request: SmokeRunRequest) -> Any:
    """One smoke run through the host's queue (server) or directly (CLI), its steps streamed as they come."""
    from tools.smoke import run_smoke

    settings = ctx.settings
    on_event = _progress_writer()
    if ctx.smoke_manager is not None:
        from tools.smoke import run_smoke_async

        return await run_smoke_async(request, ctx.smoke_manager, on_event=on_event)
    return await asyncio.to_thread(run_smoke, request, settings, on_event=on_event)


def _bind(ctx: ToolContext) -> Any:
    async def smoke_run(
        code: str | None = None,
        files: dict[str, str] | None = None,
        steps: int | None = None,
        device: DeviceChoice = "auto",
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        resolved = resolve_files(code, files, state)
        if resolved is None:
            return failure(NAME, NO_CODE)
        target, origin = resolved
        try:
            request = plan_smoke_request(ctx, target, steps, device)
        except ValidationError as error:
            return validation_failure(NAME, error)
        request, refused = _approved(ctx, request, origin)
        if refused:
            return refused, {"status": "not_started", "reason": refused}
        try:
            result = await run_smoke_for_host(ctx, request)
        except ValidationError as error:
            return validation_failure(NAME, error)
        artifact = result.model_dump(mode="json")
        artifact["trained"] = origin
        _, _, source = smoke_policy(request.files, ctx.settings)
        limits = f"{request.steps} steps, time limit {request.timeout_s or 0:.0f} s"
        if request.timeout_s and "SMOKE_TIMEOUT_S" in source:
            limits += ", as the project's SMOKE_TIMEOUT_S asks"
        content = f"Smoke run of {origin} ({limits}):\n\n{render_smoke_result(result)}"
        if request.device == "cuda" and not str(result.device or "").startswith("cuda"):
            content += "\n\nNo GPU is available to the sandbox here, so the approved run trained on the CPU."
        return content, artifact

    return smoke_run


SPEC = ToolSpec(
    NAME,
    "Train code for a few steps in the sandbox; reports losses, speed, memory.",
    SmokeArgs,
    _bind,
    is_async=True,
)
