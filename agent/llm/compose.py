"""``MLAGENT_LLM_MODE=compose``: the built-in understanding picks the tools, the model writes the answer.

For small models (the default for them, see ``agent.llm.mode``). The deterministic planner
(``agent.llm.offline`` over ``agent.llm.followups`` and the dialogue state) chooses each tool call and its
arguments, asks its clarifying questions and gives its direct answers (questions about the thread's code);
the tools run in the graph as usual. The model is asked only to write prose: from this turn's tool results
(summarised to fit) and the retrieved knowledge entries, told not to invent results or runs. Every sentence
is checked (``agent.llm.grounding``): the draft is cut at the first one that claims what no tool produced,
and the tools' own answer always follows the prose, so the facts never depend on the model.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGenerationChunk

from agent.code_context import message_text, strip_code
from agent.dialogue.state import PENDING_KEY
from agent.llm.context import summarise_tool_result
from agent.llm.errors import LLMError
from agent.llm.grounding import SENTENCE_END, grounded_prefix, unsupported_claim
from agent.llm.offline import _help_answer, plan_next_message
from agent.llm.remote import RemoteChatModel, fallback_note, text_chunks
from agent.prompts import load_prompt

log = logging.getLogger("mlagent.llm")

KNOWLEDGE_MARKER = "## Knowledge-base entries for the user's latest message"
SEPARATOR = "\n\n---\n\n"
# A short prose answer needs no more; a small model's prompt is what costs time on a CPU.
COMPOSE_MAX_TOKENS = 256
# Measured on 2 loaded cores: llama.cpp reads 8-15 prompt tokens/s there, so every 1,000 characters cost about
# 30 s. After tools the results carry the facts (answer_question's result is the knowledge itself); the
# knowledge entries go only to an answer written without tools.
_USER_CHARS = 600
_RESULTS_CHARS = 1_200
_KNOWLEDGE_CHARS = 900

Kind = Literal["tool", "direct", "results", "chat"]


def _latest_user(messages: Sequence[BaseMessage]) -> tuple[int, str]:
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return index, message_text(messages[index])
    return -1, ""


def _knowledge(messages: Sequence[BaseMessage]) -> str:
    """The knowledge entries the graph retrieved for this turn (appended to its system message)."""
    for message in messages:
        if isinstance(message, SystemMessage):
            text = message_text(message)
            if KNOWLEDGE_MARKER in text:
                return text.split(KNOWLEDGE_MARKER, 1)[1].strip()
    return ""


def _results(messages: Sequence[BaseMessage]) -> list[ToolMessage]:
    index, _ = _latest_user(messages)
    return [m for m in messages[index + 1 :] if isinstance(m, ToolMessage)]


def classify(step: AIMessage, messages: Sequence[BaseMessage]) -> Kind:
    """What the planner's step is: a tool call, a direct answer, or an answer the model should write."""
    if step.tool_calls:
        return "tool"
    if PENDING_KEY in step.additional_kwargs:
        return "direct"  # a clarifying question: the planner's own words
    if _results(messages):
        return "results"
    _, text = _latest_user(messages)
    return "chat" if message_text(step) == _help_answer(text) else "direct"


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + " ..."


def compose_prompt(messages: Sequence[BaseMessage], kind: Kind) -> tuple[list[BaseMessage], str]:
    """The small prompt the model writes from, and the source text its sentences are checked against."""
    _, user = _latest_user(messages)
    question = _trim(strip_code(user).strip() or "(code only)", _USER_CHARS)
    results = _results(messages)
    summaries = [
        f"[{m.name}] {summarise_tool_result(m, _RESULTS_CHARS // max(1, len(results)))}" for m in results
    ]
    knowledge = "" if results else _trim(_knowledge(messages), _KNOWLEDGE_CHARS)
    parts = [f"The user wrote:\n{question}"]
    if summaries:
        parts.append("What the tools returned this turn:\n" + "\n".join(summaries))
    if knowledge:
        parts.append(f"Knowledge-base entries:\n{knowledge}")
    parts.append("Write the reply now.")
    system = load_prompt("compose.md" if kind == "results" else "chat_small.md").strip()
    sources = "\n".join([user, *(message_text(m) for m in results), *summaries, _knowledge(messages)])
    return [SystemMessage(content=system), HumanMessage(content="\n\n".join(parts))], sources


def _chat_fallback() -> str:
    return load_prompt("help.md").strip()


def assemble(prose: str, step: AIMessage, kind: Kind) -> str:
    """The reply: the model's prose, then (after tools) the tools' own answer."""
    facts = message_text(step) if kind == "results" else ""
    if prose and facts:
        return f"{prose}{SEPARATOR}{facts}"
    return prose or facts or _chat_fallback()


class ComposeChatModel(RemoteChatModel):
    """Deterministic tool choice, model-written prose grounded in the tool results."""

    @property
    def _llm_type(self) -> str:
        return "mlagent-compose-mode"

    def _tools_run(self, messages: Sequence[BaseMessage]) -> list[str]:
        return [m.name or "" for m in _results(messages)]

    def _on_error(self, error: LLMError, step: AIMessage, kind: Kind) -> AIMessage:
        if self.policy.on_error == "error":
            raise error
        log.warning("LLM failed; the tools' answer stands alone", extra={"error": error.message})
        body = message_text(step) if kind == "results" else _chat_fallback()
        return AIMessage(content=f"{fallback_note(error)}\n\n{body}")

    def _request(
        self, messages: list[BaseMessage], kind: Kind
    ) -> tuple[list[BaseMessage], str, dict[str, Any]]:
        prompt, sources = compose_prompt(messages, kind)
        return prompt, sources, {"max_tokens": min(self.policy.max_tokens, COMPOSE_MAX_TOKENS)}

    async def respond(self, messages: list[BaseMessage], names: set[str], tools: list[Any]) -> AIMessage:
        step = plan_next_message(messages, names)
        kind = classify(step, messages)
        if kind in {"tool", "direct"}:
            return step
        prompt, sources, kwargs = self._request(messages, kind)
        try:
            draft = message_text(await self.call(prompt, **kwargs)).strip()
        except LLMError as error:
            return self._on_error(error, step, kind)
        prose, reason = grounded_prefix(draft, sources, self._tools_run(messages))
        if reason:
            log.info("model draft cut at an unsupported sentence", extra={"reason": reason})
        return AIMessage(content=assemble(prose, step, kind))

    async def respond_stream(
        self, messages: list[BaseMessage], names: set[str], tools: list[Any]
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Prose goes out sentence by sentence, each checked first; the tools' answer follows."""
        step = plan_next_message(messages, names)
        kind = classify(step, messages)
        if kind in {"tool", "direct"}:
            for chunk in text_chunks(step):
                yield chunk
            return
        prompt, sources, kwargs = self._request(messages, kind)
        ran = self._tools_run(messages)
        buffer, said, cut = "", "", False
        try:
            async for received in self.stream_call(prompt, **kwargs):
                buffer += message_text(received)
                while not cut and (boundary := SENTENCE_END.search(buffer)):
                    piece, buffer = buffer[: boundary.end()], buffer[boundary.end() :]
                    if unsupported_claim(piece, sources, ran):
                        cut = True
                    elif piece.strip():
                        said += piece
                        yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if cut:
                    break
        except LLMError as error:
            if said:
                if self.policy.on_error == "error":
                    raise
            else:
                for fallback in text_chunks(self._on_error(error, step, kind)):
                    yield fallback
                return
        if not cut and buffer.strip() and not unsupported_claim(buffer, sources, ran):
            said += buffer
            yield ChatGenerationChunk(message=AIMessageChunk(content=buffer))
        said = said.strip()
        tail = assemble(said, step, kind)[len(said) :] if said else assemble("", step, kind)
        for chunk in text_chunks(AIMessage(content=tail)):
            yield chunk
