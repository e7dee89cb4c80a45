"""The agent graph: dialogue tracking, then one LLM node and one tool node in a loop (LangGraph ``StateGraph``).

The same graph runs with the offline planner and with a real LLM; only the chat model differs. ``understand``
folds each turn into the dialogue state (checkpointed with the thread); the system prompt (persona + tool
instructions from ``prompts/``, plus a summary of that state) is prepended at call time and never stored in the
thread, so editing the persona applies to old threads too.
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

from agent.dialogue.state import DIALOGUE_KEY, DialogueState
from agent.dialogue.tracker import track
from agent.prompts import system_prompt
from agent.user_errors import tool_error_text


class AgentState(MessagesState):
    """The thread's messages plus the dialogue state (plain JSON, see ``agent.dialogue``)."""

    dialogue: dict[str, Any]


def _system_message(prompt: str, dialogue: DialogueState) -> SystemMessage:
    """The system prompt with the dialogue state: as text for an LLM, as data for the offline planner."""
    summary = dialogue.summary()
    content = f"{prompt}\n\n## What this conversation has established\n{summary}" if summary else prompt
    return SystemMessage(content=content, additional_kwargs={DIALOGUE_KEY: dialogue.dump()})


def _tool_error_message(error: Exception) -> str:
    """What the model reads when a tool raised: a plain sentence (the detail goes to the server log)."""
    return tool_error_text(error)


def build_graph(
    model: BaseChatModel, tools: list[BaseTool], checkpointer: BaseCheckpointSaver[Any] | None = None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the agent: ``agent`` decides, ``tools`` executes, back to ``agent`` until it answers."""
    bound = model.bind_tools(tools)
    prompt = system_prompt()

    def understand(state: AgentState) -> dict[str, Any]:
        return {"dialogue": track(state.get("dialogue"), state["messages"]).dump()}

    async def call_model(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        system = _system_message(prompt, DialogueState.load(state.get("dialogue")))
        response = await bound.ainvoke([system, *state["messages"]], config)
        return {"messages": [response]}

    builder = StateGraph(AgentState)
    builder.add_node("understand", understand)
    builder.add_node("agent", call_model)
    # Tool failures come back as ToolMessages the model can explain, instead of killing the turn.
    builder.add_node("tools", ToolNode(tools, handle_tool_errors=_tool_error_message))
    builder.add_edge(START, "understand")
    builder.add_edge("understand", "agent")
    builder.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)
