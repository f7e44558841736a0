"""``SqliteConnections``: run one ``sqlite3`` transaction at a time on an SQLite file, inline on the
event loop while nobody holds the lock it needs, on a dedicated thread when someone does.

Each operation is one synchronous function holding one whole transaction (:func:`write` wraps a
write in ``BEGIN IMMEDIATE`` … ``COMMIT``). :meth:`SqliteConnections.run` tries it **inline on the
event loop** first, on a connection whose ``busy_timeout`` is 0, then, only if SQLite answers
``SQLITE_BUSY``/``SQLITE_LOCKED`` (another connection or process holds the write lock, or a reader
meets a WAL recovery), **again on one dedicated thread** whose connection waits for the lock up to
the busy timeout.

- Inline is where a WAL database's work belongs when nobody contends: a reader never waits for a
  writer, and a primary-key lookup or a small committed write (``synchronous=NORMAL``: no fsync
  on commit) costs less than the hand-off to a thread and back (measured on the 2-CPU dev box, CPU
  per operation: a session lookup ~10 µs inline, ~70 µs on a thread, ~600 µs through SQLAlchemy's
  async engine on aiosqlite; a session insert ~45, ~80 and ~830 µs). No transaction stays open
  across an ``await``: the function holds all of it.
- The thread is where waiting belongs: under lock contention (``--workers`` processes sharing the
  file, or this process's own SQLAlchemy transactions) a write waits there, up to the busy timeout,
  while the loop goes on serving. The inline attempt took ``BEGIN IMMEDIATE`` first, so a busy
  answer comes before any change (nothing to undo but an empty transaction).
- The alternatives: all inline with a busy timeout would freeze the whole process (every request)
  while another process holds the lock; all on a thread pays the hand-off on every operation.

The loop's connection does not checkpoint on commit (``wal_autocheckpoint=0``: a checkpoint
fsyncs); every :data:`CHECKPOINT_EVERY` commits a passive checkpoint runs on the thread instead.

Every ``sqlite3`` failure becomes ``ServiceUnavailableError``, logged as
:func:`.engine.unavailable_on_failure` does (class and SQLite error names, never a parameter).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sqlite3
from collections.abc import Callable
from typing import TypeVar

from jwtkit.auth.errors import ServiceUnavailableError

from .engine import SQLITE_BUSY_TIMEOUT_MS, describe_failure, storage_unavailable

__all__ = ["CHECKPOINT_EVERY", "Operation", "SqliteConnections", "write"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], T]

CHECKPOINT_EVERY = 256
"""Commits on the loop's connection between two passive WAL checkpoints (run on the thread)."""
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SqliteConnections:
    """The loop's connection and the thread's, on one SQLite file. Build it with :meth:`open`."""

    def __init__(self, path: str, inline: sqlite3.Connection, *, busy_timeout_ms: int) -> None:
        """Use :meth:`open`."""
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._inline: sqlite3.Connection | None = inline
        self._threaded: sqlite3.Connection | None = None  # opened and used on the thread only
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="jwtkit-sqlite")
        self._commits = 0

    @classmethod
    def open(cls, path: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> SqliteConnections:
        """Connections to the SQLite file ``path`` (the thread's is opened when first needed).

        Raises:
            ServiceUnavailableError: the file cannot be opened.
        """
        try:
            inline = _connect(path, busy_timeout_ms=0)
        except (sqlite3.Error, OSError) as exc:
            raise storage_unavailable("opening the database", exc) from exc
        try:
            inline.execute("PRAGMA wal_autocheckpoint=0")
        except sqlite3.Error as exc:
            inline.close()
            raise storage_unavailable("opening the database", exc) from exc
        return cls(path, inline, busy_timeout_ms=busy_timeout_ms)

    async def run(self, what: str, operation: Operation[T], *, commits: bool = False) -> T:
        """``operation(connection)``: inline, or on the thread when the database is busy.
        ``commits``: the operation writes (counted towards the next checkpoint).

        Raises:
            ServiceUnavailableError: any failure, the busy timeout passed, or closed.
        """
        connection = self._inline
        if connection is None:
            raise ServiceUnavailableError()  # closed
        try:
            result = operation(connection)
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _BUSY:
                raise storage_unavailable(what, exc) from exc
        except OSError as exc:
            raise storage_unavailable(what, exc) from exc
        else:
            if commits:
                self._committed()
            return result
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._on_thread, operation)
        except (sqlite3.Error, OSError, RuntimeError) as exc:  # RuntimeError: closed meanwhile
            raise storage_unavailable(what, exc) from exc

    async def close(self) -> None:
        """Close both connections and stop the thread (closing again does nothing)."""
        if self._inline is None:
            return
        self._inline.close()
        self._inline = None
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close_threaded)
        self._thread.shutdown(wait=False)

    def _on_thread(self, operation: Operation[T]) -> T:
        if self._threaded is None:
            self._threaded = _connect(self._path, busy_timeout_ms=self._busy_timeout_ms)
        return operation(self._threaded)

    def _close_threaded(self) -> None:
        if self._threaded is not None:
            self._threaded.close()
            self._threaded = None

    def _committed(self) -> None:
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._thread.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            self._on_thread(lambda conn: conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
        except (sqlite3.Error, OSError) as exc:  # the next one, or another connection's, will do
            log.warning("SQLite WAL checkpoint failed: %s", describe_failure(exc))


def write(body: Operation[T]) -> Operation[T]:
    """``body`` in one write transaction: ``BEGIN IMMEDIATE`` takes the write lock first (so a
    busy database answers before anything changed), then ``COMMIT`` unless ``body`` rolled back;
    an exception rolls back."""
    def transaction(conn: sqlite3.Connection) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(conn)
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    return transaction


def _connect(path: str, *, busy_timeout_ms: int) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with the engine's pragmas
    (``journal_mode`` is the file's: WAL since the schema was created)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=64)
    try:
        connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        connection.close()
        raise
    return connection
