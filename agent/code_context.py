"""Finding the code a chat turn is about: fenced or plainly pasted in a message, or produced earlier in the thread.

Users paste code in many shapes ("review this: import torch ..." on one line, several fenced blocks with file
names, a YAML config beside the module). Follow-ups ("smoke-test it", "now fix the issues") refer to the most
recent code of the conversation, which may be code the user pasted or files a tool produced (a generated
project, the fixed files of a review). Both the offline planner and the tools resolve "the code" here, so the
two always agree on what "it" is.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

_FENCE = re.compile(r"```[ \t]*([\w.+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_FILENAME_HINT = re.compile(r"([\w./-]+\.(?:py|ya?ml|toml|cfg|json))\s*[:)]?\s*$")
_FIRST_LINE_COMMENT_NAME = re.compile(r"^#\s*(?:file:\s*)?([\w./-]+\.(?:py|ya?ml))\s*$")
_CODE_START = re.compile(
    r"(?:^|(?<=[:?!.] ))(?:import \w|from [\w.]+ import |class \w+|def \w+|@\w|if __name__|[A-Za-z_][\w.]*\s*=\s*\S|#!)",
    re.MULTILINE,
)
_YAML_LANGS = {"yaml", "yml"}

# Tool results that carry files, by tool name and the artifact key holding {path: text}.
_FILE_ARTIFACTS = {"generate_project": "files", "review_code": "fixed_files", "edit_code": "files"}


def _suffix_for(lang: str, text: str) -> str:
    if lang.lower() in _YAML_LANGS:
        return ".yaml"
    if lang.lower() in {"", "python", "py", "python3"}:
        return ".py"
    return ""


def _name_before(text: str, start: int) -> str | None:
    """A file name written just before a fence ("model.py:" or "**train.py**")."""
    preceding = text[:start].rstrip().splitlines()
    if not preceding:
        return None
    match = _FILENAME_HINT.search(preceding[-1].replace("*", "").replace("`", ""))
    return match.group(1) if match else None


def extract_code_files(text: str) -> dict[str, str]:
    """The code files in one message: fenced blocks (named when the text names them) or plain pasted code.

    Returns an empty dict when the message holds no code. Non-Python, non-YAML fences (shell, output) are
    ignored: they are not part of a project to review or train.
    """
    files: dict[str, str] = {}
    fences = list(_FENCE.finditer(text))
    for index, fence in enumerate(fences, start=1):
        lang, body = fence.group(1), fence.group(2).rstrip() + "\n"
        suffix = _suffix_for(lang, body)
        if not suffix or not body.strip():
            continue
        name = _name_before(text, fence.start())
        first = body.splitlines()[0] if body.splitlines() else ""
        comment_name = _FIRST_LINE_COMMENT_NAME.match(first.strip())
        if name is None and comment_name:
            name = comment_name.group(1)
        if name is None:
            name = "submitted.py" if suffix == ".py" and len(fences) == 1 else f"snippet_{index}{suffix}"
        files[name] = body
    if files or fences:
        return files
    if _is_whole_program(text):
        # A whole pasted file keeps its leading comments and docstring, so its lines match the file's.
        return {"submitted.py": text.strip("\n") + "\n"}
    match = _CODE_START.search(text)
    if match is None:
        return {}
    candidate = text[match.start() :].strip()
    # A lone assignment in prose ("lr = 0.1 is too high?") is not a program: ask for real code structure.
    if not re.search(r"^(?:import |from |class |def )", candidate, re.MULTILINE):
        return {}
    return {"submitted.py": candidate + "\n"}


def _is_whole_program(text: str) -> bool:
    """The whole text is Python with real structure (an import, class or def line), prose-free.

    Why: the code-start heuristic drops everything before the first statement-looking line, which also drops
    a file's leading comments and docstring; then chat's review reports other line numbers than the CLI, HTTP
    and the file itself (issue 11). Prose around code does not parse, so it still goes the heuristic's way.
    """
    if not re.search(r"^(?:import |from [\w.]+ import |class |def )", text, re.MULTILINE):
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _artifact_files(message: ToolMessage) -> dict[str, str]:
    key = _FILE_ARTIFACTS.get(message.name or "")
    artifact = message.artifact if isinstance(message.artifact, dict) else None
    if key is None or artifact is None:
        return {}
    files = artifact.get(key)
    if isinstance(files, dict) and files:
        return {str(path): str(text) for path, text in files.items()}
    return {}


def latest_code(messages: Sequence[BaseMessage]) -> tuple[dict[str, str], str] | None:
    """The most recent code of a conversation and where it came from ("you pasted", "generated", "fixed").

    Walks the thread backwards so a follow-up always means the newest code, whether the user pasted it or a
    tool produced it.
    """
    for message in reversed(messages):
        if isinstance(message, ToolMessage):
            files = _artifact_files(message)
            if files:
                origin = {"generate_project": "the generated project", "edit_code": "the edited code"}.get(
                    message.name or "", "the fixed code"
                )
                return files, origin
        elif isinstance(message, HumanMessage):
            files = extract_code_files(message_text(message))
            if files:
                return files, "the code you pasted"
    return None


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a string or a list of content parts."""
    content: Any = message.content
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and part.get("type") == "text":
            parts.append(str(part.get("text", "")))
    return "\n".join(parts)


def strip_code(text: str) -> str:
    """The prose of a message without its code, so intent detection is not fooled by identifiers in code."""
    without_fences = _FENCE.sub(" ", text)
    match = _CODE_START.search(without_fences)
    if match and re.search(r"^(?:import |from |class |def )", without_fences[match.start() :], re.MULTILINE):
        return without_fences[: match.start()]
    return without_fences


def is_ai_with_tool_calls(message: BaseMessage) -> bool:
    """True for an assistant message that asked for tools (a step inside a turn, not a final answer)."""
    return isinstance(message, AIMessage) and bool(message.tool_calls)
