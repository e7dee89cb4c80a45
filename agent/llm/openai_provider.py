"""``MLAGENT_LLM=openai``: ChatOpenAI against OpenAI or any OpenAI-compatible server (vLLM, Ollama, llama.cpp).

Settings are checked at start-up: a base URL must be an http(s) URL, real OpenAI needs a key, and (unless
``MLAGENT_LLM_STARTUP_CHECK=false``) the server must answer ``GET /models`` so a wrong URL or key is reported
when the service starts, not when the first user waits for an answer.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import httpx
from langchain_core.language_models import BaseChatModel

from agent.llm import LLMConfigError
from core.settings import Settings

log = logging.getLogger("mlagent.llm")

_LOCAL_SERVER_KEY = "not-needed"


def _check_settings(settings: Settings) -> tuple[str | None, str]:
    base_url = settings.openai_base_url
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if base_url:
        parsed = urlparse(base_url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise LLMConfigError(
                f"OPENAI_BASE_URL must be an http(s) URL such as http://127.0.0.1:8080/v1, got {base_url!r}"
            )
    elif not key:
        raise LLMConfigError(
            "MLAGENT_LLM=openai needs OPENAI_API_KEY (for api.openai.com) or OPENAI_BASE_URL (for a local "
            "OpenAI-compatible server such as vLLM, Ollama or llama.cpp)"
        )
    if not settings.model.strip():
        raise LLMConfigError("MLAGENT_MODEL must name the model to use")
    return base_url, key or _LOCAL_SERVER_KEY


def probe_server(base_url: str, key: str, timeout_s: float = 5.0) -> dict[str, Any] | None:
    """Fail fast when the configured server is unreachable or rejects the key; returns its model listing."""
    url = f"{base_url}/models"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s)
    except httpx.HTTPError as error:
        raise LLMConfigError(f"cannot reach the LLM server at {url}: {error}") from error
    if response.status_code in {401, 403}:
        raise LLMConfigError(
            f"the LLM server at {base_url} rejected OPENAI_API_KEY (HTTP {response.status_code})"
        )
    if response.status_code >= 400:
        raise LLMConfigError(
            f"the LLM server at {url} answered HTTP {response.status_code}: is this an OpenAI-compatible /v1 URL?"
        )
    try:
        listing = response.json()
    except ValueError:
        return None
    return listing if isinstance(listing, dict) else None


def _compat_class() -> type[Any]:
    """ChatOpenAI sending what local servers accept (defined lazily: langchain-openai is imported on use)."""
    from langchain_openai import ChatOpenAI

    class CompatChatOpenAI(ChatOpenAI):
        """Chat Completions as llama.cpp, llama-cpp-python, vLLM and Ollama accept them.

        - an assistant message with tool calls carries ``content: ""``: llama-cpp-python rejects ``null``, and
          the history is re-sent, so one such message broke every later turn of the thread;
        - ``tool_choice`` goes explicitly with tools: llama-cpp-python leaves the tools out of the prompt
          without it;
        - the answer's bound is sent as ``max_tokens`` to servers other than OpenAI's (older servers ignore
          ``max_completion_tokens`` and generate until the context is full).
        """

        def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any) -> dict:  # type: ignore[type-arg]
            payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
            for message in payload.get("messages", []):
                if message.get("role") == "assistant" and message.get("content") is None:
                    message["content"] = ""
            if payload.get("tools") and "tool_choice" not in payload:
                payload["tool_choice"] = "auto"
            base = str(self.openai_api_base or "")
            if base and "api.openai.com" not in base and "max_completion_tokens" in payload:
                payload["max_tokens"] = payload.pop("max_completion_tokens")
            return payload

    return CompatChatOpenAI


def build_openai_model(settings: Settings) -> BaseChatModel:
    """The real model, bounded, in the mode the settings (or the server's answer) call for."""
    from agent.llm.compose import ComposeChatModel
    from agent.llm.mode import choose_mode
    from agent.llm.remote import LLMPolicy
    from agent.llm.tools_mode import ToolCallingChatModel

    base_url, key = _check_settings(settings)
    listing = (
        probe_server(base_url or "https://api.openai.com/v1", key) if settings.llm_startup_check else None
    )
    choice = choose_mode(settings, listing)
    inner = _compat_class()(
        model=settings.model,
        base_url=base_url,
        api_key=key,
        timeout=settings.llm_timeout_s,
        max_retries=0,  # retries are ours (agent.llm.remote): never after a timeout
        max_tokens=settings.llm_max_tokens,
        use_responses_api=False,
        disabled_params={"parallel_tool_calls": None},
    )
    policy = LLMPolicy.from_settings(settings)
    wrapper = ComposeChatModel if choice.mode == "compose" else ToolCallingChatModel
    log.info("LLM mode", extra={"llm_mode": choice.mode, "reason": choice.reason, "model": settings.model})
    return wrapper(inner=inner, policy=policy, choice=choice)
