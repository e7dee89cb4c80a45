"""Storage of long threads (issue 12, item 5): the real ChatService, graph, offline planner and SQLite checkpointer."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.chat import ChatService
from agent.graph import build_graph
from agent.history import HistoryPolicy
from agent.llm.offline import OfflinePlannerChatModel
from agent.thread_store import prepare_storage
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings
from tests.samples import LIGHTNING_SCRIPT, PLAIN_LOOP

CHATTER = ["hi", "explain MLR006", "what can you do?"]


class Harness:
    """One event loop, one SQLite checkpointer, one ChatService with ``policy``."""

    def __init__(self, data_dir: Path, policy: HistoryPolicy, *, prepare: bool = True) -> None:
        self.loop = asyncio.new_event_loop()
        self.db = data_dir / "threads.sqlite"
        self.manager = AsyncSqliteSaver.from_conn_string(str(self.db))
        self.saver = self.run(self.manager.__aenter__())
        self.run(prepare_storage(self.saver) if prepare else self.saver.setup())
        graph = build_graph(
            OfflinePlannerChatModel(),
            build_tools(ToolContext(Settings(data_dir=data_dir))),
            self.saver,
            policy,
        )
        self.service = ChatService(graph, recursion_limit=24, history=policy)

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def turn(self, message: str, thread_id: str = "t") -> Any:
        return self.run(self.service.turn(message, thread_id))

    def scalar(self, sql: str, *params: Any) -> int:
        async def query() -> int:
            async with self.saver.lock:
                cursor = await self.saver.conn.execute(sql, params)
                row = await cursor.fetchone()
            return int(row[0] or 0) if row else 0

        return int(self.run(query()))

    def live_bytes(self) -> int:
        """Bytes of pages in use (file + WAL view, free pages excluded)."""
        pages = self.scalar("PRAGMA page_count") - self.scalar("PRAGMA freelist_count")
        return pages * self.scalar("PRAGMA page_size")

    def disk_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.db.parent.glob("threads.sqlite*"))

    def state_size(self, thread_id: str = "t") -> int:
        state = self.run(self.service.graph.aget_state({"configurable": {"thread_id": thread_id}}))
        return len(state.values["messages"])

    def close(self) -> None:
        self.run(self.manager.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    running = Harness(tmp_path, HistoryPolicy(window_messages=8))
    yield running
    running.close()


def test_sixty_turns_stay_bounded_linear_and_follow_ups_still_find_the_code(harness: Harness) -> None:
    harness.turn(f"review this:\n```python\n{LIGHTNING_SCRIPT}```")
    sizes: dict[int, int] = {}
    for index in range(1, 60):
        harness.turn(CHATTER[index % len(CHATTER)])
        # One checkpoint per thread after every turn, and a state bounded by twice the window plus a turn.
        assert harness.scalar("SELECT COUNT(*) FROM checkpoints WHERE thread_id = 't'") == 1
        assert harness.scalar("SELECT COUNT(*) FROM writes WHERE thread_id = 't'") == 0
        assert harness.state_size() <= 2 * 8 + 4 + 4
        sizes[index + 1] = harness.live_bytes()
    # Linear: the last 20 turns add about what 20 earlier turns added (quadratic storage adds ~2.5x as much).
    early, late = sizes[30] - sizes[10], sizes[60] - sizes[40]
    assert late < 1.5 * early + 16_384, (early, late)

    # The code was pasted 60 turns ago, far outside the model's window: "fix the issues" still means it.
    fixed = harness.turn("now fix the issues you found")
    [call] = fixed.tool_calls
    assert call.name == "review_code" and call.args == {"fix": True}
    assert call.result["reviewed"] == "the code you pasted"
    assert "seed_everything" in call.result["fixed_files"]["submitted.py"]

    # The full history is still readable, in order.
    shown = harness.run(harness.service.history("t"))
    assert shown[0]["role"] == "user" and LIGHTNING_SCRIPT.splitlines()[0] in shown[0]["content"]
    users = [item["content"] for item in shown if item["role"] == "user"]
    assert len(users) == 61 and users[1:4] == [CHATTER[1], CHATTER[2], CHATTER[0]]
    assert users[-1] == "now fix the issues you found"
    assert len({item.get("tool_call_id") for item in shown if item["role"] == "tool"}) == len(
        [item for item in shown if item["role"] == "tool"]
    )

    # Deleting the thread gives the space back to the file system.
    before = harness.disk_bytes()
    harness.run(harness.service.delete("t"))
    assert harness.scalar("SELECT COUNT(*) FROM thread_archive") == 0
    after = harness.disk_bytes()
    assert after < before / 4, (before, after)


def test_start_up_prunes_and_converts_a_database_written_without_limits(tmp_path: Path) -> None:
    legacy = HistoryPolicy(durability="async", keep_checkpoints=0, window_messages=10_000)
    old = Harness(tmp_path, legacy, prepare=False)
    for index in range(6):
        old.turn(CHATTER[index % len(CHATTER)], "a")
        old.turn(f"review this:\n```python\n{PLAIN_LOOP}```", "b")
    rows_before = old.scalar("SELECT COUNT(*) FROM checkpoints")
    history_before = old.run(old.service.history("b"))
    old.close()
    assert rows_before > 24  # several checkpoints per turn were kept
    with sqlite3.connect(tmp_path / "threads.sqlite") as conn:
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0

    new = Harness(tmp_path, HistoryPolicy())
    try:
        assert new.scalar("SELECT COUNT(*) FROM checkpoints") == 2  # the latest of each thread
        assert new.scalar("PRAGMA auto_vacuum") == 2
        assert new.run(new.service.history("b")) == history_before
        assert new.turn("now fix the issues", "b").tool_calls[0].result["reviewed"] == "the code you pasted"
    finally:
        new.close()
