"""What both real-model modes share: one bounded request to the model server, with retries and fallback.

The inner model is ``ChatOpenAI`` (``agent.llm.openai_provider``), configured without its own retries: a
timeout is not retried (that would double a chat's wait), a refused connection or a 429/5xx is, up to
``MLAGENT_LLM_MAX_RETRIES`` times. Failures become ``LLMError`` (502/504); with ``MLAGENT_LLM_ON_ERROR=offline``
the turn is answered by the built-in planner instead, with a note saying so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent.llm.errors import LLMError, as_llm_error, is_retryable
from agent.llm.mode import ModeChoice
from core.settings import Settings

log = logging.getLogger("mlagent.llm")

# The inner request reports to no callback: LangGraph's stream handlers would otherwise inherit it from the
# context and stream the raw tokens beside the checked ones this model yields.
_PRIVATE: RunnableConfig = {"callbacks": []}


@dataclass(frozen=True)
class LLMPolicy:
    """The bounds of every model request (from the ``MLAGENT_LLM_*`` settings)."""

    max_tokens: int = 512
    context_tokens: int = 8192
    timeout_s: float = 60.0
    max_retries: int = 1
    on_error: str = "offline"

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMPolicy:
        return cls(
            max_tokens=settings.llm_max_tokens,
            context_tokens=settings.llm_context_tokens,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            on_error=settings.llm_on_error,
        )


def fallback_note(error: LLMError) -> str:
    """The line that tells the user this answer did not come from the language model."""
    return f"_(The language model did not answer ({error.code}: {error.message}); this answer comes from the built-in planner.)_"


def text_chunks(message: AIMessage) -> list[ChatGenerationChunk]:
    """A whole message as stream chunks: tool calls in one chunk, text in word-sized pieces."""
    import json
    import re

    if message.tool_calls:
        chunks = [
            {"name": call["name"], "args": json.dumps(call["args"]), "id": call["id"], "index": position}
            for position, call in enumerate(message.tool_calls)
        ]
        chunk = AIMessageChunk(
            content="",
            tool_call_chunks=chunks,  # type: ignore[arg-type]
            additional_kwargs=dict(message.additional_kwargs),
        )
        return [ChatGenerationChunk(message=chunk)]
    pieces = re.findall(r"\S+\s*|\s+", str(message.content)) or [""]
    out = [ChatGenerationChunk(message=AIMessageChunk(content=piece)) for piece in pieces]
    if message.additional_kwargs:
        out[0].message.additional_kwargs.update(message.additional_kwargs)
    return out


class RemoteChatModel(BaseChatModel):
    """Base of the two modes: holds the real model, the bounds and the mode choice."""

    inner: Any
    policy: LLMPolicy
    choice: ModeChoice

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Record the tool schemas in the OpenAI format (sent as they are in ``tools`` mode)."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, **kwargs)

    @staticmethod
    def tool_names(kwargs: dict[str, Any]) -> set[str]:
        return {tool["function"]["name"] for tool in kwargs.get("tools") or []}

    def _error(self, error: BaseException) -> LLMError | None:
        return as_llm_error(error, self.policy.timeout_s)

    async def call(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        """One model request (no callbacks: the outer model reports tokens), retried where it helps."""
        for attempt in range(self.policy.max_retries + 1):
            try:
                result = await self.inner.ainvoke(messages, _PRIVATE, **kwargs)
                return result if isinstance(result, AIMessage) else AIMessage(content=str(result.content))
            except Exception as error:
                mapped = self._error(error)
                if mapped is None:
                    raise
                if attempt < self.policy.max_retries and is_retryable(error):
                    log.warning("LLM request failed, retrying", extra={"error": str(error)[:200]})
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                raise mapped from error
        raise AssertionError("unreachable")

    async def stream_call(self, messages: list[BaseMessage], **kwargs: Any) -> AsyncIterator[AIMessageChunk]:
        """Stream one model request; retried only while nothing has been received yet."""
        for attempt in range(self.policy.max_retries + 1):
            received = False
            try:
                async for chunk in self.inner.astream(messages, _PRIVATE, **kwargs):
                    received = True
                    yield chunk
                return
            except Exception as error:
                mapped = self._error(error)
                if mapped is None:
                    raise
                if not received and attempt < self.policy.max_retries and is_retryable(error):
                    log.warning("LLM stream failed, retrying", extra={"error": str(error)[:200]})
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                raise mapped from error

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Synchronous callers (none in the service) get the async path on a private event loop."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._agenerate(messages, stop, None, **kwargs)).result()

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = await self.respond(messages, self.tool_names(kwargs), kwargs.get("tools") or [])
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in self.respond_stream(messages, self.tool_names(kwargs), kwargs.get("tools") or []):
            if run_manager and isinstance(chunk.message.content, str) and chunk.message.content:
                await run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk

    async def respond(self, messages: list[BaseMessage], names: set[str], tools: list[Any]) -> AIMessage:
        raise NotImplementedError

    async def respond_stream(
        self, messages: list[BaseMessage], names: set[str], tools: list[Any]
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in text_chunks(await self.respond(messages, names, tools)):
            yield chunk
