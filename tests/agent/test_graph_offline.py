"""The real LangGraph graph driven by the offline planner, with the real tools and a real SQLite checkpointer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.chat import ChatService, ChatTurn
from agent.graph import build_graph
from agent.llm.offline import OfflinePlannerChatModel
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings
from tests.samples import PLAIN_LOOP


@pytest.fixture
def run(tmp_path: Path) -> AsyncIterator[object]:
    """Run coroutines against one ChatService on a fresh SQLite checkpointer."""
    loop = asyncio.new_event_loop()
    settings = Settings(data_dir=tmp_path)

    async def open_service() -> tuple[ChatService, object]:
        manager = AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.sqlite"))
        saver = await manager.__aenter__()
        graph = build_graph(OfflinePlannerChatModel(), build_tools(ToolContext(settings)), saver)
        return ChatService(graph, recursion_limit=20), manager

    service, manager = loop.run_until_complete(open_service())

    def turn(message: str, thread_id: str = "t") -> ChatTurn:
        return loop.run_until_complete(service.turn(message, thread_id))

    turn.service = service  # type: ignore[attr-defined]
    turn.loop = loop  # type: ignore[attr-defined]
    yield turn
    loop.run_until_complete(manager.__aexit__(None, None, None))  # type: ignore[attr-defined]
    loop.close()


def test_offline_model_binds_tools_and_emits_tool_calls() -> None:
    tools = build_tools(ToolContext(Settings()))
    model = OfflinePlannerChatModel().bind_tools(tools)
    reply = model.invoke([HumanMessage(content=f"review this\n```python\n{PLAIN_LOOP}```")])
    assert isinstance(reply, AIMessage)
    assert [call["name"] for call in reply.tool_calls] == ["review_code"]
    plain = model.invoke([HumanMessage(content="hello")])
    assert not plain.tool_calls and "What I can do" in str(plain.content)


def test_review_turn_reports_checklist_failures(run) -> None:  # type: ignore[no-untyped-def]
    turn = run(f"review this:\n```python\n{PLAIN_LOOP}```")
    [call] = turn.tool_calls
    assert call.name == "review_code"
    failing = {item["id"] for item in call.result["checklist"] if item["status"] == "fail"}
    assert {"gradient-clipping", "lr-scheduler", "seeding"} <= failing
    assert "Here is my review of the code you pasted" in turn.reply
    assert "fix the issues" in turn.reply


def test_multi_turn_fix_then_review_again(run) -> None:  # type: ignore[no-untyped-def]
    run(f"what's wrong with this? {PLAIN_LOOP}")
    fixed = run("now fix the issues you found")
    [call] = fixed.tool_calls
    assert call.args == {"fix": True}
    assert call.result["reviewed"] == "the code you pasted"
    again = run("review it again")
    [second] = again.tool_calls
    # The second review is of the fixed code (the newest code in the thread) when fixes were applied.
    expected = "the fixed code" if call.result.get("fixed_files") else "the code you pasted"
    assert second.result["reviewed"] == expected


def test_recommend_turn(run) -> None:  # type: ignore[no-untyped-def]
    turn = run("Which architecture should I use for real-time object detection on an edge device, 5 classes?")
    [call] = turn.tool_calls
    assert call.name == "recommend_architecture"
    assert call.result["task"] == "detection"
    assert turn.reply


def test_generate_turn_returns_reviewed_project(run) -> None:  # type: ignore[no-untyped-def]
    turn = run("generate a classification model with resnet18 for 4 classes at 64px")
    [call] = turn.tool_calls
    assert call.name == "generate_project"
    assert call.args == {"task": "classification", "backbone": "resnet18", "num_classes": 4, "image_size": 64}
    assert any(path.endswith("model.py") for path in call.result["files"])
    assert "smoke-test it" in turn.reply


def test_explain_turn(run) -> None:  # type: ignore[no-untyped-def]
    turn = run("why does gradient clipping matter?")
    [call] = turn.tool_calls
    assert call.name == "explain_checklist_item"
    assert "gradient_clip_val" in turn.reply


def test_help_and_unknown_requests_are_honest(run) -> None:  # type: ignore[no-untyped-def]
    turn = run("hello")
    assert turn.tool_calls == [] and "offline planner" in turn.reply
    # Nothing of ML in it: the knowledge base's honest reply, without a tool call (no tool has anything to add).
    turn = run("tell me a joke about penguins")
    assert turn.tool_calls == []
    assert "outside what I know well" in turn.reply or "not a machine-learning" in turn.reply
    # Near the domain but not covered: the knowledge tool answers and says so.
    turn = run("how do I fine-tune a large language model on my documents?")
    [call] = turn.tool_calls
    assert call.name == "answer_question" and call.result["out_of_scope"]


def test_follow_up_without_any_code_says_so(run) -> None:  # type: ignore[no-untyped-def]
    turn = run("smoke-test it", thread_id="empty")
    [call] = turn.tool_calls
    assert call.name == "smoke_run" and "no code" in call.result["error"].lower()
    assert "Paste your training code" in turn.reply


def test_stream_turn_matches_invoke(run) -> None:  # type: ignore[no-untyped-def]
    async def collect() -> list[tuple[str, dict[str, object]]]:
        return [event async for event in run.service.stream_turn("why does seeding matter?", "s")]

    events = run.loop.run_until_complete(collect())
    names = [name for name, _ in events]
    assert names[0] == "tool_start" and names[1] == "tool_end" and names[-1] == "done"
    reply = "".join(str(data["text"]) for name, data in events if name == "token")
    assert reply == events[-1][1]["reply"]


def test_generate_defaults_backbone_and_asks_for_classes(run) -> None:  # type: ignore[no-untyped-def]
    turn = run("generate a classification model for 4 classes", thread_id="g")
    [call] = turn.tool_calls
    assert call.result["spec"]["backbone"] == "resnet18"
    assert "No backbone was named" in turn.reply
    missing = run("generate a segmentation model", thread_id="g2")
    assert "how many classes" in missing.reply.lower() and not missing.tool_calls
