"""The agent graph: one LLM node and one tool node in a loop (LangGraph ``StateGraph(MessagesState)``).

The same graph runs with the offline planner and with a real LLM; only the chat model differs. The system
prompt (persona + tool instructions from ``prompts/``) is prepended at call time and never stored in the
thread, so editing the persona applies to old threads too. The model reads a bounded window of the thread
(``agent.history.model_window``), so a long thread costs the model no more than a short one.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import SystemMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from agent.history import HistoryPolicy, model_window
from agent.prompts import system_prompt


def _tool_error_message(error: Exception) -> str:
    """What the model reads when a tool raised: the error itself, without blaming the user."""
    return f"{type(error).__name__}: {error}"


def build_graph(
    model: BaseChatModel,
    tools: list[BaseTool],
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    history: HistoryPolicy | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the agent: ``agent`` decides, ``tools`` executes, back to ``agent`` until it answers."""
    bound = model.bind_tools(tools)
    prompt = system_prompt()
    policy = history or HistoryPolicy()

    async def call_model(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        window = model_window(state["messages"], policy)
        # One system message (some local servers reject a second one), saying what the window leaves out.
        system = SystemMessage(content=prompt + window.note())
        response = await bound.ainvoke([system, *window.messages], config)
        return {"messages": [response]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", call_model)
    # Tool failures come back as ToolMessages the model can explain, instead of killing the turn.
    builder.add_node("tools", ToolNode(tools, handle_tool_errors=_tool_error_message))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)
