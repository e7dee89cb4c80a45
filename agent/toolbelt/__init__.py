"""The agent's tool belt: LangChain tools over the plain tool functions in ``tools/`` and ``sandbox/``.

One module per tool (its argument model, function, renderer and ``SPEC``); ``SPECS`` below collects them in
the order a model sees them, so adding a tool is one module and one line here. Tools that act on "the code"
fall back to the latest code of the conversation (injected graph state), so "smoke-test it" works the same
with the offline planner and with a real LLM that leaves the arguments empty.
"""

from __future__ import annotations

from langchain_core.tools import BaseTool

from agent.toolbelt import (
    ab_test,
    answer,
    edit,
    experiments_compare,
    experiments_list,
    explain,
    export,
    fix_run,
    generate,
    recommend,
    review,
    smoke,
)
from agent.toolbelt.base import NO_CODE, ToolContext, ToolOutput, ToolSpec

SPECS: tuple[ToolSpec, ...] = (
    review.SPEC,
    recommend.SPEC,
    generate.SPEC,
    smoke.SPEC,
    fix_run.SPEC,
    ab_test.SPEC,
    edit.SPEC,
    answer.SPEC,
    explain.SPEC,
    export.SPEC,
    experiments_list.SPEC,
    experiments_compare.SPEC,
)

__all__ = ["NO_CODE", "SPECS", "ToolContext", "ToolOutput", "ToolSpec", "build_tools"]


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """The tool belt bound to one host (CLI process or server)."""
    return [spec.build(ctx) for spec in SPECS]
