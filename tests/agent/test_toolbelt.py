"""The tool belt's shape: one module per tool, each collected once, each building a real LangChain tool."""

from __future__ import annotations

import pkgutil

import agent.toolbelt
from agent.toolbelt import SPECS, ToolContext, build_tools
from agent.user_errors import TOOL_NAMES
from core.settings import Settings


def test_every_tool_module_is_collected_once() -> None:
    modules = {info.name for info in pkgutil.iter_modules(agent.toolbelt.__path__) if info.name != "base"}
    collected = [spec.bind.__module__.rsplit(".", 1)[-1] for spec in SPECS]
    assert sorted(collected) == sorted(modules)
    assert len({spec.name for spec in SPECS}) == len(SPECS)


def test_every_tool_has_a_name_users_read() -> None:
    assert {spec.name for spec in SPECS} <= set(TOOL_NAMES)


def test_build_tools_binds_every_spec(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tools = build_tools(ToolContext(settings=Settings(data_dir=tmp_path)))
    assert [tool.name for tool in tools] == [spec.name for spec in SPECS]
    by_name = {tool.name: tool for tool in tools}
    assert by_name["smoke_run"].coroutine is not None and by_name["review_code"].func is not None
    assert "state" not in by_name["review_code"].tool_call_schema.model_json_schema()["properties"]
