"""LLM failures as the contract's errors: 502 ``llm_unavailable`` and 504 ``llm_timeout``.

A model server that times out, refuses the connection or answers 5xx is not this service's internal error:
the client gets a clear JSON error (or an SSE ``error`` event) naming the cause, never a bare 500, and the
connection stays usable for the next request.
"""

from __future__ import annotations

import httpx
import openai

from core.errors import ApiError


class LLMError(ApiError):
    """The language model did not give a usable answer (502, or 504 for a timeout)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message, details={"retryable": True})


class LLMTimeoutError(LLMError):
    """The model server did not answer within MLAGENT_LLM_TIMEOUT_S."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            504,
            "llm_timeout",
            f"the language model did not answer within {timeout_s:g} s (MLAGENT_LLM_TIMEOUT_S); try again, "
            "or ask for less",
        )


class LLMUnavailableError(LLMError):
    """The model server could not be reached or answered with an error."""

    def __init__(self, reason: str) -> None:
        super().__init__(502, "llm_unavailable", f"the language model is unavailable: {reason}")


def as_llm_error(error: BaseException, timeout_s: float) -> LLMError | None:
    """The contract error for a failure of the model client, or None when the error is not the model's."""
    if isinstance(error, LLMError):
        return error
    if isinstance(error, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return LLMTimeoutError(timeout_s)
    if isinstance(error, openai.APIStatusError):
        detail = _short(error.message)
        return LLMUnavailableError(f"the server answered HTTP {error.status_code} ({detail})")
    if isinstance(error, openai.APIConnectionError | httpx.TransportError):
        return LLMUnavailableError(f"cannot reach the server ({_short(str(error))})")
    if isinstance(error, openai.OpenAIError):
        return LLMUnavailableError(_short(str(error)))
    return None


def is_retryable(error: BaseException) -> bool:
    """Worth one more try: a refused/reset connection, 429 or 5xx. A timeout is not: it would double the wait."""
    if isinstance(error, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return False
    if isinstance(error, openai.APIStatusError):
        return error.status_code == 429 or error.status_code >= 500
    return isinstance(error, openai.APIConnectionError | httpx.TransportError)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
