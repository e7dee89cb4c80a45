"""Loading the persona and tool instructions from ``prompts/`` (text files, editable without touching code)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@cache
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>``; a missing file is a packaging bug, so it raises."""
    return (PROMPTS_DIR / name).read_text(encoding="utf-8")


def system_prompt() -> str:
    """The system prompt every chat model receives: the persona followed by the tool instructions."""
    return load_prompt("persona.md").strip() + "\n\n" + load_prompt("tools.md").strip()
