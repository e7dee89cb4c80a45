"""``export_onnx``: export the model to ONNX in the sandbox and check it against PyTorch."""

from __future__ import annotations

import asyncio
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

NAME = "export_onnx"


class ExportArgs(BaseModel):
    """Arguments of the export_onnx tool."""

    code: str | None = Field(
        default=None, description="Code to export. Empty: the latest code in the thread."
    )
    files: dict[str, str] | None = Field(default=None, description="Project files: path -> text.")
    module_class: str | None = Field(default=None, description="The model class, when there are several.")
    input_shape: list[int] | None = Field(
        default=None, description="Example input shape, e.g. [1, 3, 224, 224]."
    )
    state: Annotated[dict[str, Any] | None, InjectedState] = None


def render_export_result(result: Any) -> str:
    """Markdown verdict of an ONNX export check."""
    verdict = {
        "succeeded": "✅ **The model exports to ONNX.**",
        "failed": "❌ **The ONNX export failed.**",
    }.get(result.status, f"Export status: **{result.status}**")
    lines = [verdict, "", result.message]
    if result.inputs or result.outputs:
        lines += ["", "| tensor | name | shape |", "|---|---|---|"]
        lines += [f"| input | {t.get('name')} | {t.get('shape')} |" for t in result.inputs]
        lines += [f"| output | {t.get('name')} | {t.get('shape')} |" for t in result.outputs]
    if result.max_abs_diff is not None:
        lines += [
            "",
            f"Largest difference between ONNX Runtime and PyTorch outputs: {result.max_abs_diff:.2e}.",
        ]
    if result.status != "succeeded" and result.log_tail:
        lines += ["", "```text", result.log_tail.strip()[-2000:], "```"]
    return "\n".join(lines)


def _bind(ctx: ToolContext) -> Any:
    async def export_onnx(
        code: str | None = None,
        files: dict[str, str] | None = None,
        module_class: str | None = None,
        input_shape: list[int] | None = None,
        state: dict[str, Any] | None = None,
    ) -> ToolOutput:
        from tools.export import ExportRequest
        from tools.export import export_onnx as run_export

        resolved = resolve_files(code, files, state)
        if resolved is None:
            return failure(NAME, NO_CODE)
        target, origin = resolved
        try:
            request = ExportRequest(files=target, module_class=module_class, input_shape=input_shape)
        except ValidationError as error:
            return validation_failure(NAME, error)
        # Exporting executes the submitted code, so it runs as a sandbox job (never in this process).
        result = await asyncio.to_thread(run_export, request, ctx.settings)
        artifact = result.model_dump(mode="json")
        artifact["exported"] = origin
        return (
            f"ONNX export check of {origin} (run in the sandbox):\n\n{render_export_result(result)}",
            artifact,
        )

    return export_onnx


SPEC = ToolSpec(
    NAME,
    "Export the model to ONNX in the sandbox and check it against PyTorch with ONNX Runtime.",
    ExportArgs,
    _bind,
    is_async=True,
)
