"""Long-thread benchmark: turn time and storage of one thread over many turns (offline planner, real SQLite).

Usage: ``.venv/bin/python bench/long_thread.py [--turns 500] [--legacy]``. Drives the real ``ChatService`` and
graph in-process with LangGraph's ``AsyncSqliteSaver`` on a fresh data dir, cycling through cheap offline turns
(greeting, explain a rule, review a pasted 19-line loop, fix the issues), and prints, at turns 10/100/500
(and the last): the median wall and CPU time of the 10 turns before (CPU time is what contention on a shared
machine does not inflate), the database on disk (file + write-ahead log) and its data (pages in use), the messages stored, data bytes per
message (overall, and added since the previous mark: flat when storage is linear) and checkpoint rows; then
the size on disk after deleting the thread.

``--legacy`` runs the pre-fix policy (a checkpoint per graph step, none pruned, no archive) for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from agent.chat import ChatService
from agent.graph import build_graph
from agent.history import HistoryPolicy
from agent.llm.offline import OfflinePlannerChatModel
from agent.thread_store import prepare_storage
from agent.toolbelt import ToolContext, build_tools
from core.settings import Settings
from tests.samples import PLAIN_LOOP

MESSAGES = [
    "hi",
    "explain MLR006",
    f"review this:\n```python\n{PLAIN_LOOP}```",
    "now fix the issues",
]
THREAD = "long"


def db_bytes(path: Path) -> int:
    """The database's size on disk: the file plus its write-ahead log."""
    return sum(item.stat().st_size for item in path.parent.glob(path.name + "*") if item.is_file())


async def count(saver: AsyncSqliteSaver, sql: str) -> int:
    async with saver.lock:
        cursor = await saver.conn.execute(sql)
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def run(turns: int, legacy: bool, data_dir: Path) -> list[str]:
    db = data_dir / "threads.sqlite"
    policy = (
        HistoryPolicy(durability="async", keep_checkpoints=0, window_messages=1_000_000, window_chars=10**12)
        if legacy
        else HistoryPolicy()
    )
    marks = sorted({mark for mark in (10, 100, 500) if mark <= turns} | {turns})
    lines = [
        f"{'turn':>5} {'wall p50 ms':>12} {'cpu p50 ms':>11} {'disk MB':>8} {'data MB':>8} {'messages':>9}"
        f" {'data B/msg':>11} {'added B/msg':>12} {'checkpoints':>12}"
    ]
    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
        if legacy:
            await saver.setup()
        else:
            await prepare_storage(saver, policy.keep_checkpoints)
        tools = build_tools(ToolContext(Settings(data_dir=data_dir)))
        graph = build_graph(OfflinePlannerChatModel(), tools, saver, policy)
        service = ChatService(graph, recursion_limit=24, history=policy)
        times: list[float] = []
        cpu: list[float] = []
        previous = (0, 0)  # file size and messages at the previous mark
        for index in range(turns):
            started, cpu_started = time.perf_counter(), time.process_time()
            await service.turn(MESSAGES[index % len(MESSAGES)], THREAD)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            if index + 1 in marks:
                stored = len(await service.history(THREAD))
                disk = db_bytes(db)
                pages = await count(saver, "PRAGMA page_count") - await count(saver, "PRAGMA freelist_count")
                size = pages * await count(saver, "PRAGMA page_size")
                rows = await count(saver, "SELECT COUNT(*) FROM checkpoints")
                p50 = statistics.median(times[-10:]) * 1000
                cpu50 = statistics.median(cpu[-10:]) * 1000
                added = (size - previous[0]) / max(1, stored - previous[1])
                previous = (size, stored)
                lines.append(
                    f"{index + 1:>5} {p50:>12.1f} {cpu50:>11.1f} {disk / 1e6:>8.2f} {size / 1e6:>8.2f} {stored:>9}"
                    f" {size / stored:>11.0f} {added:>12.0f} {rows:>12}"
                )
        before = db_bytes(db)
        await service.delete(THREAD)
        lines.append(f"delete the thread: {before / 1e6:.2f} MB -> {db_bytes(db) / 1e6:.2f} MB")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--legacy", action="store_true", help="the pre-fix policy, for comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lines = asyncio.run(run(args.turns, args.legacy, Path(tmp)))
    policy = "legacy: checkpoint per step, no pruning, no archive" if args.legacy else "default policy"
    print(f"one thread, {args.turns} offline turns ({policy})")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
