"""Where thread history is stored besides the checkpoint: the archive of old turns, pruning and space reclaim.

The graph state (one LangGraph checkpoint per thread) holds only a bounded tail of the conversation (see
``agent.history``). Older turns are appended here, once each, in a table of the same SQLite database, so storage
grows linearly with the number of messages and a turn never reads or writes more than the bounded state.

Also here: dropping superseded checkpoints after a turn (LangGraph keeps every checkpoint it writes), and giving
freed pages back to the file system (SQLite keeps a deleted thread's pages in the file otherwise).

Only LangGraph's ``AsyncSqliteSaver`` gets an archive; with another saver ``archive_for`` returns None and the
state keeps the whole conversation (correct, just not bounded), and pruning uses the saver's ``aprune``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from agent.history import HistoryPolicy, plan_turn

log = logging.getLogger("mlagent.threads")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_archive (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    message BLOB NOT NULL,
    UNIQUE (thread_id, message_id)
)
"""
_PRUNE_CHECKPOINTS = """
DELETE FROM checkpoints WHERE rowid IN (
    SELECT rowid FROM (
        SELECT rowid, ROW_NUMBER() OVER (
            PARTITION BY thread_id, checkpoint_ns ORDER BY checkpoint_id DESC
        ) AS rank
        FROM checkpoints {where}
    ) WHERE rank > ?
)
"""
_PRUNE_WRITES = """
DELETE FROM writes {where_and} NOT EXISTS (
    SELECT 1 FROM checkpoints AS c
    WHERE c.thread_id = writes.thread_id AND c.checkpoint_ns = writes.checkpoint_ns
      AND c.checkpoint_id = writes.checkpoint_id
)
"""
# SQLite keeps the write-ahead log at its largest size unless told to truncate it after a checkpoint.
WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024


def _sqlite_saver(checkpointer: Any) -> Any | None:
    """The saver when it is LangGraph's aiosqlite one (it exposes ``conn``, ``lock`` and ``serde``), else None."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    return checkpointer if isinstance(checkpointer, AsyncSqliteSaver) else None


class ThreadArchive:
    """Append-only store of a thread's archived messages, in the checkpointer's SQLite database.

    Messages are serialised with the checkpointer's own serializer (the strict msgpack one), keyed by message
    id so that archiving the same message twice (a retry after a crash) stores it once.
    """

    def __init__(self, saver: Any) -> None:
        self.saver = saver
        self._ready = False

    async def _ensure_table(self) -> None:
        """Create the table on first use (a saver opened without ``prepare_storage``, e.g. in-process)."""
        if self._ready:
            return
        await self.saver.setup()
        async with self.saver.lock:
            await self.saver.conn.execute(_SCHEMA)
            await self.saver.conn.commit()
        self._ready = True

    async def append(self, thread_id: str, messages: Sequence[BaseMessage]) -> None:
        await self._ensure_table()
        rows = []
        for message in messages:
            if message.id is None:
                continue
            kind, blob = self.saver.serde.dumps_typed(message)
            rows.append((thread_id, message.id, kind, blob))
        if not rows:
            return
        async with self.saver.lock:
            await self.saver.conn.executemany(
                "INSERT OR IGNORE INTO thread_archive (thread_id, message_id, type, message) VALUES (?, ?, ?, ?)",
                rows,
            )
            await self.saver.conn.commit()

    async def messages(self, thread_id: str) -> list[BaseMessage]:
        await self._ensure_table()
        async with self.saver.lock:
            cursor = await self.saver.conn.execute(
                "SELECT type, message FROM thread_archive WHERE thread_id = ? ORDER BY seq", (thread_id,)
            )
            rows = await cursor.fetchall()
        return [self.saver.serde.loads_typed((kind, blob)) for kind, blob in rows]

    async def delete(self, thread_id: str) -> None:
        await self._ensure_table()
        async with self.saver.lock:
            await self.saver.conn.execute("DELETE FROM thread_archive WHERE thread_id = ?", (thread_id,))
            await self.saver.conn.commit()


def archive_for(checkpointer: Any) -> ThreadArchive | None:
    """The archive living beside ``checkpointer`` (SQLite only; see the module docstring)."""
    saver = _sqlite_saver(checkpointer)
    return ThreadArchive(saver) if saver is not None else None


async def prune_thread(checkpointer: Any, thread_id: str, keep: int = 1) -> int:
    """Drop all but the ``keep`` newest checkpoints of a thread (and their pending writes).

    Returns how many checkpoints were removed (0 when the saver prunes by itself or cannot).
    """
    if keep <= 0 or checkpointer is None:
        return 0
    saver = _sqlite_saver(checkpointer)
    if saver is None:
        with contextlib.suppress(NotImplementedError):  # a saver without pruning keeps its checkpoints
            await checkpointer.aprune([thread_id], strategy="keep_latest")
        return 0
    async with saver.lock:
        cursor = await saver.conn.execute(
            _PRUNE_CHECKPOINTS.format(where="WHERE thread_id = ?"), (thread_id, keep)
        )
        removed = int(cursor.rowcount or 0)
        if removed:
            await saver.conn.execute(_PRUNE_WRITES.format(where_and="WHERE thread_id = ? AND"), (thread_id,))
        await saver.conn.commit()
    return removed


async def _incremental_vacuum(conn: Any) -> None:
    """Free every page on the free list. The pragma frees one page per step, and ``execute`` steps it once
    (measured: 1 of 1,225 pages); ``executescript`` runs it to the end."""
    await conn.executescript("PRAGMA incremental_vacuum;")


async def reclaim_space(checkpointer: Any) -> None:
    """Give the pages freed by deletions back to the file system (database file and write-ahead log)."""
    saver = _sqlite_saver(checkpointer)
    if saver is None:
        return
    async with saver.lock:
        await _incremental_vacuum(saver.conn)
        cursor = await saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await cursor.fetchall()


async def prepare_storage(checkpointer: Any, keep: int = 1) -> None:
    """Once at start-up: the archive table, incremental auto-vacuum, a bounded WAL, and a first pruning.

    A database written before this existed holds every checkpoint of every turn and has no auto-vacuum; it is
    pruned and rewritten (``VACUUM``) once, which takes a while for a large file and is logged.
    """
    saver = _sqlite_saver(checkpointer)
    if saver is None:
        return
    async with saver.lock:
        conn = saver.conn
        cursor = await conn.execute("PRAGMA auto_vacuum")
        row = await cursor.fetchone()
        fresh = row is not None and int(row[0]) != 2
        if fresh:
            # Takes effect at once on an empty database; an existing one needs the VACUUM below.
            await conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    await saver.setup()
    async with saver.lock:
        conn = saver.conn
        await conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
        await conn.execute(_SCHEMA)
        removed = 0
        if keep > 0:
            cursor = await conn.execute(_PRUNE_CHECKPOINTS.format(where=""), (keep,))
            removed = int(cursor.rowcount or 0)
            await conn.execute(_PRUNE_WRITES.format(where_and="WHERE"))
        await conn.commit()
        cursor = await conn.execute("PRAGMA auto_vacuum")
        row = await cursor.fetchone()
        if row is None or int(row[0]) != 2:
            log.info("converting the thread database to incremental auto-vacuum (one-time VACUUM)")
            await conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            await conn.execute("VACUUM")
        elif removed:
            await _incremental_vacuum(conn)
    if removed:
        log.info("pruned superseded checkpoints", extra={"checkpoints": removed})


# --- one turn's bookkeeping (called by ChatService inside the thread's lock) ---------------------------------


async def stored_messages(graph: Any, archive: ThreadArchive | None, thread_id: str) -> list[BaseMessage]:
    """The whole conversation: archived messages, then the state's (those not archived in place)."""
    state = await graph.aget_state({"configurable": {"thread_id": thread_id}})
    current: list[BaseMessage] = list((state.values or {}).get("messages") or []) if state else []
    if archive is None:
        return current
    archived = await archive.messages(thread_id)
    seen = {message.id for message in archived}
    return [*archived, *(message for message in current if message.id not in seen)]


async def begin_turn(
    graph: Any,
    archive: ThreadArchive | None,
    config: dict[str, Any],
    new_messages: list[BaseMessage],
    policy: HistoryPolicy,
) -> list[BaseMessage]:
    """The graph input of a turn: what repairs and compacts the stored state, then the new messages.

    The state is bounded, so reading it here is cheap; the archive is written before the state drops the
    messages, so a crash in between leaves them in both places (deduplicated on read), never in neither.
    """
    if getattr(graph, "checkpointer", None) is None:
        return new_messages
    state = await graph.aget_state(config)
    messages: list[BaseMessage] = list((state.values or {}).get("messages") or []) if state else []
    if not messages:
        return new_messages
    plan = plan_turn(messages, policy, can_archive=archive is not None)
    if plan.archive and archive is not None:
        await archive.append(str(config["configurable"]["thread_id"]), plan.archive)
    return [*plan.input_prefix, *new_messages]


def run_options(graph: Any, policy: HistoryPolicy) -> dict[str, Any]:
    """Keyword arguments for ``ainvoke``/``astream``: the checkpoint durability (only with a checkpointer)."""
    return {"durability": policy.durability} if getattr(graph, "checkpointer", None) is not None else {}


async def end_turn(graph: Any, thread_id: str, policy: HistoryPolicy) -> None:
    """After a turn: drop the thread's superseded checkpoints."""
    checkpointer = getattr(graph, "checkpointer", None)
    if checkpointer is not None:
        await prune_thread(checkpointer, thread_id, policy.keep_checkpoints)


async def delete_thread(graph: Any, archive: ThreadArchive | None, thread_id: str) -> None:
    """Remove a thread's checkpoints and archive, and give the space back."""
    await graph.checkpointer.adelete_thread(thread_id)
    if archive is not None:
        await archive.delete(thread_id)
    await reclaim_space(graph.checkpointer)
