"""Where chat threads live, and how a turn gets its thread to itself.

LangGraph's checkpointer does no locking: two turns that run at once on one thread both read the same latest
checkpoint and each writes its own successor, so one of them is silently dropped. A turn therefore holds a
per-thread lock from before it reads the thread until its last checkpoint is written. Two storage set-ups:

* **SQLite** in the data directory (the default). The turn lock is an ``asyncio.Lock`` in the process, which
  is only correct while a single process uses the database, so a process that opens a data directory takes
  an OS lock on ``<data_dir>/mlagent.lock`` for as long as it runs (``hold_data_dir``); a second server or an
  in-process ``mlagent chat`` on the same directory is refused with a clear message instead of losing turns.
* **PostgreSQL** (``MLAGENT_DATABASE_URL=postgresql://...``): several API processes (each with its own data
  directory) share one database. The turn lock is then a Postgres advisory lock per thread id, held on its
  own connection for the whole turn, so it serialises turns across processes; if a process dies, the server
  ends its session and the lock goes with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

    from core.settings import Settings

LOCK_FILE_NAME = "mlagent.lock"
# How long a turn may wait for a free connection of the lock pool before it fails (a turn can run minutes).
LOCK_POOL_WAIT_S = 600.0
# Key of the advisory lock that serialises schema migrations when several processes start at once.
_SETUP_LOCK_NAME = "mlagent:checkpoint-setup"


class StorageError(RuntimeError):
    """The configured storage cannot be used (the message says why, for a person)."""


class DataDirBusy(StorageError):
    """Another process holds the data directory."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


# ---------------------------------------------------------------------------------------------- data-dir lock


@dataclass
class _HeldDir:
    fd: int
    users: int


_HELD_DIRS: dict[Path, _HeldDir] = {}


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _busy_message(data_dir: Path, holder: dict[str, Any]) -> str:
    who = holder.get("owner") or "another mlagent process"
    pid = f" (pid {holder['pid']})" if holder.get("pid") else ""
    return (
        f"the data directory {data_dir} is in use by {who}{pid}; one process per data directory, because "
        "two would lose each other's chat turns: stop it, or set another MLAGENT_DATA_DIR (with several "
        "servers, share threads through MLAGENT_DATABASE_URL)"
    )


def acquire_data_dir(data_dir: Path, owner: str) -> None:
    """Take this process's hold on ``data_dir`` (re-entrant within the process); DataDirBusy if another has it.

    ``flock`` on a file inside the directory: the kernel releases it when the process ends, however it ends,
    so a crashed server never leaves a stale lock behind. The file says who holds it, for the refusal message.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    key = data_dir.resolve()
    held = _HELD_DIRS.get(key)
    if held is not None:
        held.users += 1
        return
    path = key / LOCK_FILE_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # close-on-exec: sandboxed children do not inherit it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        holder = _read_holder(path)
        raise DataDirBusy(_busy_message(key, holder), holder) from None
    except OSError as error:
        os.close(fd)
        raise StorageError(f"cannot lock the data directory {key}: {error.strerror}") from None
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "owner": owner}).encode() + b"\n")
    _HELD_DIRS[key] = _HeldDir(fd, 1)


def serving_url(data_dir: Path) -> str | None:
    """The URL of the ``mlagent serve`` process holding ``data_dir`` right now, or None (free, or held by
    something that is not a server: an in-process chat). Lets ``mlagent chat`` use the server on its data."""
    path = data_dir.resolve() / LOCK_FILE_NAME
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        owner = str(_read_holder(path).get("owner", ""))
        url = owner.rpartition(" on ")[2]
        return url if owner.startswith("mlagent serve on ") and url.startswith("http") else None
    except OSError:
        return None
    finally:
        os.close(fd)  # a shared lock we got (nobody holds the directory) goes with the descriptor
    return None


def release_data_dir(data_dir: Path) -> None:
    """Give back one hold; the lock goes when the last one does."""
    key = data_dir.resolve()
    held = _HELD_DIRS.get(key)
    if held is None:
        return
    held.users -= 1
    if held.users == 0:
        del _HELD_DIRS[key]
        with contextlib.suppress(OSError):
            os.ftruncate(held.fd, 0)
        os.close(held.fd)  # closing the last descriptor releases the flock


@contextlib.contextmanager
def hold_data_dir(data_dir: Path, owner: str) -> Iterator[None]:
    """``acquire_data_dir`` for the duration of a ``with`` block."""
    acquire_data_dir(data_dir, owner)
    try:
        yield
    finally:
        release_data_dir(data_dir)


# ------------------------------------------------------------------------------------------------ turn locks


class TurnLocks(Protocol):
    """Gives one turn at a time exclusive use of a thread."""

    def hold(self, thread_id: str) -> AbstractAsyncContextManager[None]:
        """Wait for the thread, hold it for the ``async with`` block, and release it however the block ends."""
        ...

    def held(self, thread_id: str) -> bool:
        """Whether a turn of this process holds (or waits for) the thread."""
        ...


class LocalTurnLocks:
    """Per-thread ``asyncio.Lock``s; an entry lives only while some turn holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(thread_id, asyncio.Lock())
        self._users[thread_id] = self._users.get(thread_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[thread_id] -= 1
            if not self._users[thread_id]:
                del self._users[thread_id]
                del self._locks[thread_id]

    def held(self, thread_id: str) -> bool:
        return thread_id in self._locks


def advisory_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a name (a collision only makes two threads wait for each other)."""
    digest = hashlib.blake2b(f"mlagent:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresTurnLocks:
    """The local lock (so a process's own turns queue in memory) plus a Postgres advisory lock per thread."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self._pool = pool
        self._local = LocalTurnLocks()

    def held(self, thread_id: str) -> bool:
        return self._local.held(thread_id)

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        key = advisory_key(f"thread:{thread_id}")
        async with self._local.hold(thread_id):
            conn = await self._pool.getconn(timeout=LOCK_POOL_WAIT_S)
            try:
                await conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            except BaseException:
                # Cancelled or failed while waiting: the lock may or may not have been granted, so the
                # connection goes, and the server drops whatever it held with the session.
                await asyncio.shield(self._discard(conn))
                raise
            try:
                yield
            finally:
                # Shielded: a cancelled turn (client gone) must still release the lock, not leave it held.
                await asyncio.shield(self._release(conn, key))

    async def _release(self, conn: AsyncConnection[Any], key: int) -> None:
        try:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        except Exception:
            await self._discard(conn)
            return
        await self._pool.putconn(conn)

    async def _discard(self, conn: AsyncConnection[Any]) -> None:
        await conn.close()
        await self._pool.putconn(conn)  # the pool drops a closed connection and opens a fresh one if needed


# --------------------------------------------------------------------------------------------------- storage


@dataclass
class Storage:
    """The thread checkpointer and the turn locks that go with it."""

    kind: str
    checkpointer: BaseCheckpointSaver[Any]
    locks: TurnLocks
    ping: Callable[[], Awaitable[None]]


def redacted_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


@asynccontextmanager
async def open_storage(settings: Settings, owner: str) -> AsyncIterator[Storage]:
    """Hold the data directory (as ``owner``) and open the checkpointer and turn locks the settings ask for.

    DataDirBusy if another process holds the directory; StorageError if the database cannot be used.
    """
    with hold_data_dir(settings.data_dir, owner):
        if settings.database_url is not None:
            async with _open_postgres(settings.database_url.get_secret_value(), settings) as storage:
                yield storage
        else:
            async with _open_sqlite(settings) as storage:
                yield storage


@asynccontextmanager
async def _open_sqlite(settings: Settings) -> AsyncIterator[Storage]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(str(settings.checkpoint_db)) as saver:
        await saver.setup()

        async def ping() -> None:
            async with saver.conn.execute("SELECT 1") as cursor:
                await cursor.fetchone()

        yield Storage("sqlite", saver, LocalTurnLocks(), ping)


@asynccontextmanager
async def _open_postgres(url: str, settings: Settings) -> AsyncIterator[Storage]:
    try:
        import psycopg
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool, PoolTimeout
    except ImportError as error:
        raise StorageError(
            f"MLAGENT_DATABASE_URL needs langgraph-checkpoint-postgres and psycopg ({error.name} is missing)"
        ) from None

    # The saver's own settings: autocommit (each checkpoint write commits at once, before the turn lock is
    # released) and no server-side prepared statements (safe behind PgBouncer).
    saver_kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    size = settings.database_pool_size
    checkpoints = AsyncConnectionPool(
        url, min_size=1, max_size=size, kwargs=saver_kwargs, open=False, name="mlagent-checkpoints"
    )
    locks = AsyncConnectionPool(
        url, min_size=1, max_size=size, kwargs={"autocommit": True}, open=False, name="mlagent-turn-locks"
    )
    try:
        try:
            await checkpoints.open(wait=True, timeout=settings.database_connect_timeout_s)
            await locks.open(wait=True, timeout=settings.database_connect_timeout_s)
        except (PoolTimeout, psycopg.Error) as error:
            raise StorageError(
                f"cannot connect to the database {redacted_url(url)}: {str(error).strip() or type(error).__name__}"
            ) from None
        saver = AsyncPostgresSaver(checkpoints)  # type: ignore[arg-type]
        # Migrations are not safe to run twice at once: processes starting together take turns.
        async with locks.connection() as conn:
            setup_key = advisory_key(_SETUP_LOCK_NAME)
            await conn.execute("SELECT pg_advisory_lock(%s)", (setup_key,))
            try:
                await saver.setup()
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (setup_key,))

        async def ping() -> None:
            async with checkpoints.connection(timeout=5) as conn:
                await conn.execute("SELECT 1")

        yield Storage("postgres", saver, PostgresTurnLocks(locks), ping)
    finally:
        await locks.close()
        await checkpoints.close()


def check_database(settings: Settings) -> None:
    """Connect once to the configured database (if any) so ``serve`` fails fast with a one-line reason."""
    if settings.database_url is None:
        return
    url = settings.database_url.get_secret_value()
    try:
        import psycopg
    except ImportError:
        raise StorageError("MLAGENT_DATABASE_URL needs psycopg (pip install 'psycopg[binary]')") from None
    try:
        with psycopg.connect(url, connect_timeout=max(1, int(settings.database_connect_timeout_s))):
            pass
    except psycopg.Error as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise StorageError(f"cannot connect to the database {redacted_url(url)}: {reason}") from None
