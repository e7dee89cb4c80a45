"""The thread's code over model-invented code: a model may pass ``code``/``files`` that nobody wrote.

A small model asked to "review my code" calls ``review_code`` with a snippet it made up, which then scores
100 instead of reviewing what the user pasted. Tools that act on "the code" fall back to the thread's latest
code when the argument is empty (``agent.toolbelt.base.resolve_files``), so an argument whose code appears
nowhere in the thread is removed: the tool then acts on the thread's code, or says there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolCall, ToolMessage

from agent.code_context import message_text

log = logging.getLogger("mlagent.llm")

CODE_ARGUMENTS = ("code", "files")


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _thread_texts(messages: Sequence[BaseMessage]) -> str:
    """Everything the user or a tool put in the thread that could hold code, whitespace-normalised."""
    parts: list[str] = []
    for message in messages:
        if isinstance(message, HumanMessage):
            parts.append(message_text(message))
        elif isinstance(message, ToolMessage):
            artifact = message.artifact if isinstance(message.artifact, dict) else {}
            for value in artifact.values():
                if isinstance(value, dict):
                    parts.extend(str(text) for text in value.values())
            parts.append(message_text(message))
    return _normalise("\n".join(parts))


def _code_values(args: dict[str, Any]) -> list[str]:
    values: list[str] = []
    code = args.get("code")
    if isinstance(code, str) and code.strip():
        values.append(code)
    files = args.get("files")
    if isinstance(files, dict):
        values.extend(str(text) for text in files.values() if str(text).strip())
    return values


def prefer_thread_code(calls: Sequence[ToolCall], messages: Sequence[BaseMessage]) -> list[ToolCall]:
    """The tool calls with every ``code``/``files`` argument that is not in the thread removed."""
    thread: str | None = None
    grounded: list[ToolCall] = []
    for call in calls:
        values = _code_values(call["args"])
        if values:
            thread = _thread_texts(messages) if thread is None else thread
            if not all(_normalise(value) in thread for value in values):
                log.info("dropped model-invented code argument", extra={"tool": call["name"]})
                call = {**call, "args": {k: v for k, v in call["args"].items() if k not in CODE_ARGUMENTS}}
        grounded.append(call)
    return grounded
