"""The agent graph: dialogue tracking, then one LLM node and one tool node in a loop (LangGraph ``StateGraph``).

The same graph runs with the offline planner and with a real LLM; only the chat model differs. ``understand``
folds each turn into the dialogue state (checkpointed with the thread); the system prompt (persona + tool
instructions from ``prompts/``, plus a summary of that state) is prepended at call time and never stored in the
thread, so editing the persona applies to old threads too. The model reads a bounded window of the thread
(``agent.history.model_window``), so a long thread costs the model no more than a short one.
"""

from __future__ import annotations

import asyncio
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
from agent.history import HistoryPolicy, model_window
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


def _knowledge_context(messages: list[Any]) -> str:
    """Retrieved knowledge-base entries for the latest user message (retrieval-augmented answers for an LLM)."""
    from langchain_core.messages import HumanMessage

    from agent.code_context import message_text, strip_code
    from knowledge.answer import context_for

    latest = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    if latest is None:
        return ""
    question = strip_code(message_text(latest)).strip()
    if not question:
        return ""
    return (
        "## Knowledge-base entries for the user's latest message\n"
        "Ground general answers in these entries and name their ids; if none fits, say the question is "
        f"outside what you know well instead of improvising.\n\n{context_for(question[:2000])}"
    )


def build_graph(
    model: BaseChatModel,
    tools: list[BaseTool],
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    history: HistoryPolicy | None = None,
    *,
    retrieval: bool = False,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the agent: ``agent`` decides, ``tools`` executes, back to ``agent`` until it answers.

    ``retrieval`` adds the knowledge-base entries retrieved for the latest user message to the system prompt
    (for a real LLM; the offline planner calls the answer_question tool instead).
    """
    bound = model.bind_tools(tools)
    prompt = system_prompt()
    policy = history or HistoryPolicy()

    def understand(state: AgentState) -> dict[str, Any]:
        return {"dialogue": track(state.get("dialogue"), state["messages"]).dump()}

    async def call_model(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        window = model_window(state["messages"], policy)
        # One system message (some local servers reject a second one): prompt, what the window leaves out,
        # the dialogue state, and with a real LLM the retrieved knowledge.
        system = _system_message(prompt + window.note(), DialogueState.load(state.get("dialogue")))
        if retrieval:
            context = await asyncio.to_thread(_knowledge_context, state["messages"])
            if context:
                system.content = f"{system.content}\n\n{context}"
        response = await bound.ainvoke([system, *window.messages], config)
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
