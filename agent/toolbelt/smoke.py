"""``smoke_run``: train the thread's (or the given) code for a few steps in the sandbox."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

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

NAME = "smoke_run"
DeviceChoice = Literal["auto", "cpu", "cuda"]

# Generated projects train a real backbone at their configured image size and batch (ResNet-18 at 224 px takes
# ~8 s a step on 2 CPU cores), so a chat-triggered smoke run of one uses fewer steps and a longer deadline.
GENERATED_SMOKE_STEPS = 6
GENERATED_SMOKE_TIMEOUT_S = 420.0


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


async def run_smoke_for_host(
    ctx: ToolContext,
    files: dict[str, str],
    steps: int | None,
    device: DeviceChoice,
    *,
    generated: bool = False,
) -> Any:
    """One smoke run through the host's queue (server) or directly (CLI), sized for generated projects."""
    from tools.smoke import SmokeRunRequest, run_smoke

    settings = ctx.settings
    request = SmokeRunRequest(
        files=files,
        steps=steps or (GENERATED_SMOKE_STEPS if generated else settings.smoke_default_steps),
        timeout_s=max(settings.smoke_default_timeout_s, GENERATED_SMOKE_TIMEOUT_S if generated else 0.0),
        device=device,
    )
    if ctx.smoke_manager is not None:
        from tools.smoke import run_smoke_async

        return await run_smoke_async(request, ctx.smoke_manager)
    return await asyncio.to_thread(run_smoke, request, settings)


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
            result = await run_smoke_for_host(
                ctx, target, steps, device, generated=origin == "the generated project"
            )
        except ValidationError as error:
            return validation_failure(NAME, error)
        artifact = result.model_dump(mode="json")
        artifact["trained"] = origin
        return f"Smoke run of {origin}:\n\n{render_smoke_result(result)}", artifact

    return smoke_run


SPEC = ToolSpec(
    NAME,
    "Train code for a few steps in the sandbox; reports losses, speed, memory.",
    SmokeArgs,
    _bind,
    is_async=True,
)
