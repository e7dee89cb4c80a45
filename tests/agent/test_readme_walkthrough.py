"""The README's "A first conversation" runs as written: every turn calls the tool its comment names.

The conversation is read from README.md itself, so the walk-through cannot drift from what the agent does. The
code placeholder is replaced with a small real LightningModule and Trainer script; the smoke runs are real
sandboxed runs.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.chat import ChatService, ChatTurn
from agent.graph import build_graph
from agent.llm.offline import OfflinePlannerChatModel
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings
from tests.samples import TINY_LIGHTNING

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
TOOLS = {
    "recommend_architecture",
    "answer_question",
    "generate_project",
    "review_code",
    "edit_code",
    "smoke_run",
    "compare_experiments",
    "explain_checklist_item",
}
INTERNAL = ("Input should", "Field required", "validation error", "ToolInvocationError", "Traceback")


def walkthrough() -> list[tuple[str, str]]:
    """(message, comment) pairs of the README's first-conversation block."""
    text = README.read_text()
    block = text.split("#### A first conversation", 1)[1].split("```text", 1)[1].split("\n```\n", 1)[0]
    turns: list[tuple[str, str]] = []
    for line in block.strip("\n").splitlines():
        if line.lstrip().startswith("#"):
            message, _ = turns[-1]
            turns[-1] = (message, line.strip().lstrip("# "))
            continue
        message, _, comment = line.partition("  #")
        turns.append((message.strip(), comment.strip().lstrip("# ")))
    return turns


# A small module that trains on synthetic inputs (example_input_array) and the script that fits it.
SCRIPT = (
    TINY_LIGHTNING
    + '\n\nif __name__ == "__main__":\n    trainer = L.Trainer(max_epochs=3)\n    trainer.fit(TinyModel())\n'
)


def _message(text: str) -> str:
    return text.replace("```python <your LightningModule + Trainer> ```", f"\n```python\n{SCRIPT}```")


def test_the_readme_conversation_works_as_written(tmp_path: Path) -> None:
    turns = walkthrough()
    assert len(turns) >= 12

    async def run() -> list[ChatTurn]:
        settings = Settings(data_dir=tmp_path, smoke_default_steps=6)
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.sqlite")) as saver:
            graph = build_graph(OfflinePlannerChatModel(), build_tools(ToolContext(settings)), saver)
            service = ChatService(graph, recursion_limit=20)
            return [await service.turn(_message(message), "demo") for message, _ in turns]

    results = asyncio.run(run())
    for (message, comment), result in zip(turns, results, strict=True):
        named = [tool for tool in TOOLS if re.match(rf"{tool}\b", comment)]
        called = [call.name for call in result.tool_calls]
        if named:
            assert called[:1] == named, f"{message!r}: expected {named}, got {called}: {result.reply[:300]}"
        elif comment.startswith("asks"):
            assert (called == [] and result.reply.rstrip().endswith("?")) or "?" in result.reply, (
                result.reply[:300]
            )
            assert called == [], (message, called)
        else:
            assert "smoke_run" not in called and "generate_project" not in called, (message, called)
        assert not any(leak in result.reply for leak in INTERNAL), (message, result.reply[:300])
        if "smoke_run" in called:
            assert result.tool_calls[0].result["status"] == "succeeded", result.reply[:500]
    compare = results[[message for message, _ in turns].index("compare the last two runs")]
    assert len(compare.tool_calls[0].result["rows"]) == 2
