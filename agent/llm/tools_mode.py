"""``MLAGENT_LLM_MODE=tools``: the model chooses and calls the tools itself (for capable models).

Around the plain ChatOpenAI call: the prompt is fitted to the model's context (``agent.llm.context``), the
tools go with an explicit ``tool_choice`` ("auto"; llama-cpp-python leaves tools out of the prompt without
it), code arguments the model invented give way to the thread's code (``agent.llm.arguments``), and a failed
or empty answer becomes the built-in planner's step with a note, or a 502/504 (``MLAGENT_LLM_ON_ERROR``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from agent.code_context import message_text
from agent.llm.arguments import prefer_thread_code
from agent.llm.context import char_budget, fit_messages
from agent.llm.errors import LLMError, LLMUnavailableError
from agent.llm.offline import plan_next_message
from agent.llm.remote import RemoteChatModel, fallback_note, text_chunks

log = logging.getLogger("mlagent.llm")


class ToolCallingChatModel(RemoteChatModel):
    """The real model with the tools bound, bounded and grounded."""

    @property
    def _llm_type(self) -> str:
        return "mlagent-tools-mode"

    def _request(
        self, messages: list[BaseMessage], tools: list[Any]
    ) -> tuple[list[BaseMessage], dict[str, Any]]:
        # The tool schemas share the context with the messages (about 1,500 tokens for the whole belt).
        budget = char_budget(self.policy.context_tokens, self.policy.max_tokens) - len(json.dumps(tools))
        fitted = fit_messages(messages, budget)
        kwargs: dict[str, Any] = {"tools": tools, "tool_choice": "auto"} if tools else {}
        return fitted, kwargs

    def _fallback(self, messages: list[BaseMessage], names: set[str], error: LLMError) -> AIMessage:
        if self.policy.on_error == "error":
            raise error
        log.warning("LLM failed; the built-in planner answers", extra={"error": error.message})
        step = plan_next_message(messages, names)
        if step.tool_calls:
            return step
        return AIMessage(
            content=f"{fallback_note(error)}\n\n{message_text(step)}",
            additional_kwargs=step.additional_kwargs,
        )

    def _grounded(self, message: AIMessage, messages: list[BaseMessage]) -> AIMessage:
        if message.tool_calls:
            calls = [
                {**call, "id": call.get("id") or f"call_{uuid.uuid4().hex[:16]}"}
                for call in prefer_thread_code(message.tool_calls, messages)
            ]
            return AIMessage(content=message_text(message), tool_calls=calls, id=message.id)
        return message

    async def respond(self, messages: list[BaseMessage], names: set[str], tools: list[Any]) -> AIMessage:
        fitted, kwargs = self._request(messages, tools)
        try:
            message = await self.call(fitted, **kwargs)
        except LLMError as error:
            return self._fallback(messages, names, error)
        if not message.tool_calls and not message_text(message).strip():
            return self._fallback(messages, names, LLMUnavailableError("it returned an empty answer"))
        return self._grounded(message, messages)

    async def respond_stream(
        self, messages: list[BaseMessage], names: set[str], tools: list[Any]
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Text is passed on as it arrives; tool calls are gathered, grounded, then sent as one chunk."""
        fitted, kwargs = self._request(messages, tools)
        gathered: AIMessageChunk | None = None
        said = False
        try:
            async for chunk in self.stream_call(fitted, **kwargs):
                gathered = chunk if gathered is None else gathered + chunk
                if chunk.content and isinstance(chunk.content, str) and not gathered.tool_call_chunks:
                    said = True
                    yield ChatGenerationChunk(message=AIMessageChunk(content=chunk.content))
        except LLMError as error:
            if said:
                if self.policy.on_error == "error":
                    raise
                yield ChatGenerationChunk(message=AIMessageChunk(content=f"\n\n{fallback_note(error)}"))
                return
            for piece in text_chunks(self._fallback(messages, names, error)):
                yield piece
            return
        final = AIMessage(
            content=message_text(gathered) if gathered else "",
            tool_calls=list(gathered.tool_calls) if gathered else [],
        )
        if final.tool_calls:
            for piece in text_chunks(self._grounded(final, messages)):
                yield piece
        elif not said:
            empty = LLMUnavailableError("it returned an empty answer")
            for piece in text_chunks(self._fallback(messages, names, empty)):
                yield piece
