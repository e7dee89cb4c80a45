"""``MLAGENT_LLM=openai``: ChatOpenAI against OpenAI or any OpenAI-compatible server (vLLM, Ollama, llama.cpp).

Settings are checked at start-up: a base URL must be an http(s) URL, real OpenAI needs a key, and (unless
``MLAGENT_LLM_STARTUP_CHECK=false``) the server must answer ``GET /models`` so a wrong URL or key is reported
when the service starts, not when the first user waits for an answer.
"""

from __future__ import annotations

from urllib.parse import urlparse

import httpx
from langchain_core.language_models import BaseChatModel

from agent.llm import LLMConfigError
from core.settings import Settings

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


def probe_server(base_url: str, key: str, timeout_s: float = 5.0) -> None:
    """Fail fast when the configured server is unreachable or rejects the key."""
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


def build_openai_model(settings: Settings) -> BaseChatModel:
    """ChatOpenAI configured for Chat Completions (local servers do not speak the Responses API)."""
    from langchain_openai import ChatOpenAI

    base_url, key = _check_settings(settings)
    if settings.llm_startup_check:
        probe_server(base_url or "https://api.openai.com/v1", key)
    return ChatOpenAI(
        model=settings.model,
        base_url=base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_retries=1,
        use_responses_api=False,
        disabled_params={"parallel_tool_calls": None},
    )
