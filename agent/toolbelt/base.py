"""What every tool module of the belt shares: the host context, the tool spec, and the file resolution.

A tool module defines its argument model, its function (over the plain tool in ``tools/`` or ``sandbox/``),
its Markdown renderer and one ``SPEC``; ``agent.toolbelt`` collects the specs, so adding a tool is one file.
Each tool answers with Markdown content (what an LLM reads, and what the offline planner shows) and a
structured artifact (the tool's Pydantic result as JSON, returned to HTTP clients in ``tool_calls``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ValidationError

from agent.code_context import extract_code_files, latest_code
from agent.user_errors import TOOL_NAMES, friendly_validation
from core.settings import Settings
from tools.workers import WorkerPool

ToolOutput = tuple[str, dict[str, Any]]
NO_CODE = (
    "There is no code in this conversation yet. Paste your training code (a fenced ```python block is best) "
    "and ask again."
)


@dataclass
class ToolContext:
    """What the tools need from their host: the settings and, inside the server, the smoke queue and workers."""

    settings: Settings
    smoke_manager: Any | None = None
    review_pool: WorkerPool | None = None
    """Worker processes for reviews in the server; None reviews in this process (the command line)."""


@dataclass(frozen=True)
class ToolSpec:
    """One tool of the belt: its name and description (what a model reads), argument model, and a factory
    that binds the function to a host (``bind(ctx)`` returns a plain or an async function)."""

    name: str
    description: str
    args: type[BaseModel]
    bind: Callable[[ToolContext], Callable[..., Any]]
    is_async: bool = False

    def build(self, ctx: ToolContext) -> BaseTool:
        """The LangChain tool for this host, answering with (content, artifact)."""
        function = self.bind(ctx)
        return StructuredTool.from_function(
            func=None if self.is_async else function,
            coroutine=function if self.is_async else None,
            name=self.name,
            description=self.description,
            args_schema=self.args,
            response_format="content_and_artifact",
        )


def failure(tool: str, message: str) -> ToolOutput:
    """A tool-level failure reported as data, so the agent explains it instead of the run crashing."""
    what = TOOL_NAMES.get(tool, tool)
    return f"**I could not run {what}:** {message}", {"error": message}


def validation_failure(tool: str, error: ValidationError | ValueError) -> ToolOutput:
    """A validation problem of a tool's input, said as a sentence (the detail goes to the server log)."""
    message = friendly_validation(error, tool) if isinstance(error, ValidationError) else str(error)
    return failure(tool, message)


def resolve_files(
    code: str | None, files: dict[str, str] | None, state: dict[str, Any] | None
) -> tuple[dict[str, str], str] | None:
    """The files a tool should act on: explicit arguments first, else the latest code of the thread."""
    if files:
        return files, "the files given"
    if code and code.strip():
        extracted = extract_code_files(code)
        return (extracted or {"submitted.py": code}), "the code given"
    messages: Sequence[BaseMessage] = (state or {}).get("messages", [])
    return latest_code(messages)


async def run_sandboxed_loop(ctx: ToolContext, loop_fn: Any, request: Any) -> Any:
    """Run a multi-run tool (repair loop, A/B runs) off the event loop with the host's runner.

    The server queues each run through its smoke-run manager; the CLI runs them in-process and records them in
    the experiment store. ``loop_fn(request, settings, runner)`` is the tool's loop.
    """
    import asyncio

    settings = ctx.settings
    if ctx.smoke_manager is not None:
        from tools.fixrun.service import FixRunManager

        runner = FixRunManager(ctx.smoke_manager, asyncio.get_running_loop()).run_attempt
        return await asyncio.to_thread(loop_fn, request, settings, runner)

    def work() -> Any:
        from sandbox.experiments import ExperimentStore
        from tools.fixrun.loop import store_runner

        with ExperimentStore(settings.experiments_db) as store:
            return loop_fn(request, settings, store_runner(settings, store))

    return await asyncio.to_thread(work)
