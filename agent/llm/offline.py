"""The embedded default chat model: a deterministic planner that speaks LangChain's chat-model interface.

It drives the very same LangGraph graph as a real LLM: ``bind_tools`` records the tool schemas, a user turn
becomes ``tool_calls`` (decided by ``agent.llm.intents``), and once the tools have answered it writes the final
Markdown reply from their results. It never invents content a tool should compute; what it cannot do without
a language model (open discussion) it says plainly.

Streaming follows the LangGraph notes: tool calls go out as one whole ``AIMessageChunk`` carrying
``tool_call_chunks`` (so the ToolNode runs under ``stream_mode="messages"``), and text goes out in small chunks.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.code_context import extract_code_files, latest_code, message_text, strip_code
from agent.dialogue.state import DIALOGUE_KEY, PENDING_KEY, DialogueState
from agent.llm.code_facts import code_facts
from agent.llm.followups import Plan, plan_turn
from agent.prompts import load_prompt

_INTROS = {
    "review_code": "Here is my review of {origin}.",
    "generate_project": "I generated the project.",
    "recommend_architecture": "Here is what I recommend, computed from the knowledge base.",
    "smoke_run": "",
    "fix_run": "",
    "ab_test": "",
    "explain_checklist_item": "",
    "list_experiments": "",
    "export_onnx": "",
    "compare_experiments": "",
}
_OFFLINE_LIMITS = (
    "I'm running on the built-in offline planner (no language model is configured), so I understand the "
    "requests below but cannot hold an open-ended discussion. An operator can connect any OpenAI-compatible "
    "model with `MLAGENT_LLM=openai`."
)


def _current_turn(messages: Sequence[BaseMessage]) -> tuple[int, list[BaseMessage]]:
    """Index of the latest user message and the messages that followed it (this turn's steps)."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return index, list(messages[index + 1 :])
    return -1, list(messages)


def _dialogue(messages: Sequence[BaseMessage]) -> DialogueState:
    """The dialogue state the graph put on the system message (empty when called outside the graph)."""
    for message in messages:
        if isinstance(message, SystemMessage) and DIALOGUE_KEY in message.additional_kwargs:
            return DialogueState.load(message.additional_kwargs[DIALOGUE_KEY])
    return DialogueState()


def _plan(messages: Sequence[BaseMessage]) -> Plan:
    index, _ = _current_turn(messages)
    if index < 0:
        return Plan()
    text = message_text(messages[index])
    in_message = bool(extract_code_files(text))
    in_thread = latest_code(messages[:index]) is not None
    return plan_turn(
        strip_code(text), _dialogue(messages), has_code_in_message=in_message, has_code_in_thread=in_thread
    )


def _tool_results(turn: Sequence[BaseMessage]) -> list[ToolMessage]:
    return [message for message in turn if isinstance(message, ToolMessage)]


def _next_steps(results: Sequence[ToolMessage]) -> str:
    names = [message.name for message in results]
    last = results[-1]
    artifact = last.artifact if isinstance(last.artifact, dict) else {}
    if "error" in artifact:
        return ""
    if names[-1] == "review_code":
        failing = [item for item in artifact.get("checklist", []) if item.get("status") == "fail"]
        if artifact.get("fixed_files"):
            return "**Next:** say **smoke-test it** to train the fixed code for a few steps in the sandbox."
        if failing:
            return (
                "**Next:** say **fix the issues** to apply the safe automatic fixes, or **smoke-test it** to "
                "check that the code trains."
            )
    if names[-1] == "recommend_architecture":
        return (
            '**Next:** ask me to *generate* a project with the top pick (e.g. "generate it with 10 classes") '
            "and to *smoke-test it*."
        )
    return ""


def compose_final_answer(messages: Sequence[BaseMessage], preface: str = "") -> str:
    """The Markdown reply of a turn, written from this turn's tool results only."""
    _, turn = _current_turn(messages)
    results = _tool_results(turn)
    sections: list[str] = [preface] if preface else []
    for message in results:
        artifact = message.artifact if isinstance(message.artifact, dict) else {}
        origin = artifact.get("reviewed", "your code")
        intro = _INTROS.get(message.name or "", "").format(origin=origin)
        body = message_text(message).strip()
        if message.status == "error":
            sections.append(body)
            continue
        plain = "error" in artifact or "alternative" in artifact
        sections.append(body if plain or not intro else f"{intro}\n\n{body}".strip())
    if results:
        tail = _next_steps(results)
        if tail:
            sections.append(tail)
    return "\n\n---\n\n".join(sections) if sections else _help_answer("")


def _help_answer(text: str) -> str:
    greeting = "Hello!\n\n" if re.match(r"^\s*(hi|hello|hey|good)", text, re.IGNORECASE) else ""
    if re.match(
        r"^\s*(?:thanks?|thank you|thx|ty\b|cheers|that'?s all|bye|goodbye|see you|perfect|great|danke|merci|"
        r"gracias|obrigad|grazie)",
        text,
        re.I,
    ):
        return (
            "You're welcome. Paste more code any time, or ask for a review, a recommendation or a smoke run."
        )
    return f"{greeting}{load_prompt('help.md').strip()}\n\n_{_OFFLINE_LIMITS}_"


def _answer_about_code(messages: Sequence[BaseMessage], decided: Plan) -> str | None:
    """A question about the thread's own code is answered from its files, not from the knowledge base."""
    if [intent.tool for intent in decided.intents] != ["answer_question"]:
        return None
    index, _ = _current_turn(messages)
    code = latest_code(messages[:index]) if index >= 0 else None
    if code is None:
        return None
    files, origin = code
    facts = code_facts(strip_code(message_text(messages[index])), files)
    return f"From {origin}:\n\n{facts}" if facts else None


def plan_next_message(messages: Sequence[BaseMessage], tool_names: set[str]) -> AIMessage:
    """The planner's next step: the next tool call of this turn's plan, or the final answer."""
    index, turn = _current_turn(messages)
    decided = _plan(messages)
    about_code = _answer_about_code(messages, decided) if not turn else None
    if about_code is not None:
        return AIMessage(content=about_code)
    if decided.ask is not None and not turn:
        pending = decided.ask.pending.model_dump(mode="json")
        return AIMessage(content=decided.ask.question, additional_kwargs={PENDING_KEY: pending})
    if decided.say is not None and not turn:
        return AIMessage(content=decided.say.text)
    plan = [intent for intent in decided.intents if intent.tool in tool_names]
    done = [message for message in turn if isinstance(message, AIMessage) and message.tool_calls]
    results = _tool_results(turn)
    failed = any(
        m.status == "error" or (isinstance(m.artifact, dict) and "error" in m.artifact) for m in results
    )
    if len(done) < len(plan) and not failed:
        intent = plan[len(done)]
        # Unique per turn (the user message's id), not per position: the model reads a bounded window of the
        # thread, so positions repeat from turn to turn and clients correlate tool calls by id.
        anchor = (messages[index].id if index >= 0 else None) or uuid.uuid4().hex
        call_id = f"call_{anchor.replace('-', '')[:16]}_{len(done)}"
        return AIMessage(content="", tool_calls=[{"name": intent.tool, "args": intent.args, "id": call_id}])
    if not results:
        text = message_text(messages[index]) if index >= 0 else ""
        return AIMessage(content=_help_answer(text))
    return AIMessage(content=compose_final_answer(messages, decided.preface))


class OfflinePlannerChatModel(BaseChatModel):
    """A LangChain chat model with no LLM behind it: deterministic planning over the bound tools."""

    @property
    def _llm_type(self) -> str:
        return "mlagent-offline-planner"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Record the tool schemas exactly as a real provider would receive them."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, **kwargs)

    @staticmethod
    def _tool_names(kwargs: dict[str, Any]) -> set[str]:
        return {tool["function"]["name"] for tool in kwargs.get("tools", []) or []}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = plan_next_message(messages, self._tool_names(kwargs))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = plan_next_message(messages, self._tool_names(kwargs))
        if message.tool_calls:
            chunks = [
                {"name": call["name"], "args": json.dumps(call["args"]), "id": call["id"], "index": position}
                for position, call in enumerate(message.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))  # type: ignore[arg-type]
            return
        for piece in re.findall(r"\S+\s*|\s+", str(message.content)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
