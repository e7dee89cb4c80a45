"""Fit what the model reads into its context window: tool results summarised or trimmed, old turns dropped.

A generated project or a full review is thousands of tokens; re-sent with the history it overflows an 8k
local model (the server then answers 400 or truncates silently). The thread keeps every result in full (HTTP
clients get them in ``tool_calls``); only the copy sent to the model is cut, with a note saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agent.code_context import message_text

CHARS_PER_TOKEN = 3  # conservative for code and Markdown (English prose is about 4)
_SYSTEM_RESERVE_TOKENS = 256


def char_budget(context_tokens: int, max_tokens: int) -> int:
    """Characters of prompt that leave room for the answer in a context of ``context_tokens``."""
    return max(2_000, (context_tokens - max_tokens - _SYSTEM_RESERVE_TOKENS) * CHARS_PER_TOKEN)


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 120)].rsplit("\n", 1)[0]
    return f"{cut}\n[... {len(text) - len(cut)} more characters left out to fit the model's context]"


def _review_summary(artifact: dict[str, Any]) -> str:
    summary = artifact.get("summary", {})
    lines = [
        f"Review of {artifact.get('reviewed', 'the code')}: score {summary.get('score')}, "
        f"{summary.get('errors', 0)} errors, {summary.get('warnings', 0)} warnings."
    ]
    failing = [item for item in artifact.get("checklist", []) if item.get("status") == "fail"]
    passing = [item.get("id") for item in artifact.get("checklist", []) if item.get("status") == "pass"]
    for item in failing:
        lines.append(f"- FAIL {item.get('id')}: {item.get('evidence') or item.get('title')}")
    if passing:
        lines.append(f"- pass: {', '.join(str(p) for p in passing)}")
    return "\n".join(lines)


def summarise_tool_result(message: ToolMessage, limit: int) -> str:
    """What the model reads of one tool result: a compact summary for known shapes, else the text trimmed."""
    artifact = message.artifact if isinstance(message.artifact, dict) else {}
    text = message_text(message)
    if "checklist" in artifact and "error" not in artifact:
        summary = _review_summary(artifact)
        if len(text) > limit or len(summary) < len(text) // 2:
            return _trim(summary, limit)
    return _trim(text, limit)


def fit_messages(messages: Sequence[BaseMessage], budget_chars: int) -> list[BaseMessage]:
    """A copy of ``messages`` within ``budget_chars``: tool results trimmed first, then the oldest turns.

    The system message and the latest user turn are always kept; a dropped turn goes whole (a tool result
    never loses the assistant message that asked for it, which servers reject).
    """
    system = [m for m in messages if isinstance(m, SystemMessage)]
    rest = [m for m in messages if not isinstance(m, SystemMessage)]
    used = sum(len(message_text(m)) for m in system)
    room = max(1_000, budget_chars - used)
    results = [m for m in rest if isinstance(m, ToolMessage)]
    per_result = max(600, room // (2 * max(1, len(results))))
    fitted: list[BaseMessage] = []
    for message in rest:
        if isinstance(message, ToolMessage):
            content = summarise_tool_result(message, per_result)
            if content != message_text(message):
                message = message.model_copy(update={"content": content})
        fitted.append(message)
    starts = [i for i, m in enumerate(fitted) if isinstance(m, HumanMessage)]
    while len(starts) > 1 and sum(len(message_text(m)) for m in fitted) > room:
        fitted = fitted[starts[1] :]
        starts = [i for i, m in enumerate(fitted) if isinstance(m, HumanMessage)]
    if fitted and sum(len(message_text(m)) for m in fitted) > room and isinstance(fitted[0], HumanMessage):
        first = fitted[0]
        fitted[0] = first.model_copy(update={"content": _trim(message_text(first), room // 2)})
    return [*system, *fitted]
