"""Chat-model providers: the offline planner (default) or any OpenAI-compatible server via langchain-openai."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from core.settings import Settings


class LLMConfigError(Exception):
    """The LLM settings are missing or wrong; raised at start-up, not at the first request."""


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings ask for, validated now so a misconfiguration fails fast."""
    if settings.llm == "offline":
        from agent.llm.offline import OfflinePlannerChatModel

        return OfflinePlannerChatModel()
    from agent.llm.openai_provider import build_openai_model

    return build_openai_model(settings)
