"""``SqliteDirectStore``: :class:`.store.SqlStore` with its hot paths on the standard library's
``sqlite3``: the per-request reads and writes of login, register, refresh and cookie sessions.

Why: through SQLAlchemy's async ORM layer and aiosqlite, a one-row lookup crosses to aiosqlite's
thread and back for every step (connect, begin, execute, fetch, rollback, close) and builds and
compiles the statement in between: about 1.6 ms of CPU per session lookup, and on a busy machine a
refresh waited ~10 ms for those thread hand-offs. Here a statement is a cached prepared ``sqlite3``
statement on a connection of our own, the same SQL and the same schema (created and upgraded by
:mod:`.schema` through SQLAlchemy, as before). Everything else (revocations, keys, purging) stays
on the inherited SQLAlchemy methods.

How the calls run without stalling the event loop: each operation is one synchronous function
holding one whole transaction, tried **inline on the event loop** first, on a connection whose
``busy_timeout`` is 0, then, only if SQLite answers ``SQLITE_BUSY``/``SQLITE_LOCKED`` (another
connection or process holds the write lock, or a reader meets a WAL recovery), **again on one
dedicated thread** whose connection waits for the lock up to the busy timeout.

- Inline is where a WAL database's work belongs when nobody contends: a reader never waits for a
  writer, a primary-key lookup or a small committed write (``synchronous=NORMAL``: no fsync on
  commit) takes a few tens of microseconds, less than the hand-off to a thread and back costs,
  and no transaction stays open across an ``await`` (the function holds all of it).
- The thread is where waiting belongs: under lock contention (``--workers`` processes sharing the
  file, or this process's own SQLAlchemy transactions) a write waits there, up to the busy timeout,
  while the loop goes on serving. The attempt inline took ``BEGIN IMMEDIATE`` first, so a busy
  answer comes before any change (nothing to undo but an empty transaction).
- Measured (see the branch's report): all-inline with a busy timeout freezes the whole process
  while another holds the lock; all-on-a-thread costs a hand-off per operation (about what this
  module removes); try-inline-then-thread keeps the inline figures and never blocks on a lock.

The loop's connection does not checkpoint on commit (``wal_autocheckpoint=0``: a checkpoint
fsyncs); every ``CHECKPOINT_EVERY`` commits a passive checkpoint runs on the thread instead.

Every ``sqlite3`` failure becomes ``ServiceUnavailableError``, logged as
:func:`.engine.unavailable_on_failure` does (no stray ``sqlite3`` exception, no parameters in the log).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from jwtkit.auth.errors import ServiceUnavailableError, UsernameTakenError
from jwtkit.auth.models import RefreshRecord, SessionRecord, UserRecord, username_key
from jwtkit.auth.ports import SpendResult

from .engine import SQLITE_BUSY_TIMEOUT_MS, describe_failure
from .store import SqlStore

__all__ = ["CHECKPOINT_EVERY", "SqliteDirectStore"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], T]

CHECKPOINT_EVERY = 256
"""Commits on the loop's connection between two passive WAL checkpoints (run on the thread)."""
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)

# The users columns a UserRecord is made of, by name: a new column is one more name here.
USER_COLUMNS = ("id", "username", "password_hash")
_SELECT_USER = f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE "  # noqa: S608 (constant names)
_SELECT_BY_NAME, _SELECT_BY_ID = _SELECT_USER + "username_key = ?", _SELECT_USER + "id = ?"
_TOKEN_COLUMNS = ("jti", "family_id", "user_id", "issued_at", "expires_at", "spent_at", "access_jti",
                  "access_expires_at")
_INSERT_TOKEN = (f"INSERT INTO refresh_tokens ({', '.join(_TOKEN_COLUMNS)}) "  # noqa: S608
                 f"VALUES ({', '.join('?' * len(_TOKEN_COLUMNS))})")
_SELECT_REFRESH = (f"SELECT {', '.join('t.' + c for c in _TOKEN_COLUMNS)}, f.revoked_at "  # noqa: S608
                   "FROM refresh_tokens AS t JOIN refresh_families AS f ON f.family_id = t.family_id WHERE t.jti = ?")


def user_record(row: tuple[Any, ...]) -> UserRecord:
    """The ``UserRecord`` of a row selected as :data:`USER_COLUMNS`."""
    return UserRecord(**dict(zip(USER_COLUMNS, row, strict=True)))


class SqliteDirectStore(SqlStore):
    """:class:`SqlStore` on an SQLite file, its hot methods on ``sqlite3`` (see the module docstring).

    Build it with :meth:`open` after the schema exists; :meth:`close` closes its connections and
    disposes of the engine.

    Raises (every method):
        ServiceUnavailableError: the database is unreachable, unwritable, locked past the busy
            timeout, or failing.
    """

    def __init__(self, engine: AsyncEngine, path: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
                 clock: Callable[[], float] = time.time) -> None:
        """Use :meth:`open`."""
        super().__init__(engine, clock=clock)
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._inline: sqlite3.Connection | None = None
        self._threaded: sqlite3.Connection | None = None  # used on the thread only
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="jwtkit-sqlite")
        self._commits = 0

    @classmethod
    def open(cls, engine: AsyncEngine, path: str, *,
             busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> SqliteDirectStore:
        """The store on the SQLite file ``path`` (its schema already created).

        Raises:
            ServiceUnavailableError: the file cannot be opened.
        """
        store = cls(engine, path, busy_timeout_ms=busy_timeout_ms)
        try:
            store._inline = _connect(path, busy_timeout_ms=0)
            store._inline.execute("PRAGMA wal_autocheckpoint=0")
        except (sqlite3.Error, OSError) as exc:
            store._thread.shutdown(wait=False)
            raise _unavailable("opening the database", exc) from exc
        return store

    async def close(self) -> None:
        """Close both connections, stop the thread, dispose of the engine."""
        try:
            if self._inline is not None:
                self._inline.close()
                self._inline = None
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_threaded)
            self._thread.shutdown(wait=False)
        finally:
            await self.engine.dispose()

    # ---- running one operation
    async def _run(self, what: str, operation: Operation[T], *, commits: bool = False) -> T:
        """``operation(connection)``: inline, or on the thread when the database is busy."""
        connection = self._inline
        if connection is None:
            raise ServiceUnavailableError()  # closed
        try:
            result = operation(connection)
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _BUSY:
                raise _unavailable(what, exc) from exc
        except OSError as exc:
            raise _unavailable(what, exc) from exc
        else:
            if commits:
                self._committed()
            return result
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._on_thread, operation)
        except (sqlite3.Error, OSError) as exc:
            raise _unavailable(what, exc) from exc

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

    # ---- UserStore
    async def create_user(self, username: str, password_hash: str, *, now: float) -> UserRecord:
        def insert(conn: sqlite3.Connection) -> int | None:
            try:
                cursor = conn.execute(
                    "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (username, username_key(username), password_hash, now))
            except sqlite3.IntegrityError:
                return None
            return cursor.lastrowid

        user_id = await self._run("create_user", _write(insert), commits=True)
        if user_id is None:
            raise UsernameTakenError()
        return UserRecord(id=user_id, username=username, password_hash=password_hash)

    async def get_user_by_name(self, username: str) -> UserRecord | None:
        key = username_key(username)
        row = await self._run("get_user", lambda conn: conn.execute(_SELECT_BY_NAME, (key,)).fetchone())
        return None if row is None else user_record(row)

    async def get_user(self, user_id: int) -> UserRecord | None:
        row = await self._run("get_user", lambda conn: conn.execute(_SELECT_BY_ID, (user_id,)).fetchone())
        return None if row is None else user_record(row)

    # ---- TokenStore
    async def start_family(self, first: RefreshRecord) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO refresh_families (family_id, user_id, created_at, expires_at, revoked_at, "
                "access_expires_at, kid) VALUES (?, ?, ?, ?, NULL, ?, ?)",
                (first.family_id, first.user_id, first.issued_at, first.expires_at, first.access_expires_at,
                 first.kid))
            conn.execute(_INSERT_TOKEN, _token_row(first))

        await self._run("start_family", _write(insert), commits=True)

    async def get_refresh(self, jti: str) -> RefreshRecord | None:
        row = await self._run("get_refresh", lambda conn: conn.execute(_SELECT_REFRESH, (jti,)).fetchone())
        if row is None:
            return None
        return RefreshRecord(**dict(zip(_TOKEN_COLUMNS, row, strict=False)), revoked_at=row[-1])

    async def spend_refresh(self, jti: str, *, now: float, successor: RefreshRecord) -> SpendResult:
        def spend(conn: sqlite3.Connection) -> SpendResult | tuple[Any, ...] | None:
            spent = conn.execute(
                "UPDATE refresh_tokens SET spent_at = ?, successor_jti = ? "
                "WHERE jti = ? AND spent_at IS NULL AND expires_at > ?", (now, successor.jti, jti, now))
            if spent.rowcount == 1:
                live = conn.execute(*_extend_family(successor))
                if live.rowcount != 1:
                    conn.execute("ROLLBACK")
                    return SpendResult.REVOKED
                conn.execute(_INSERT_TOKEN, _token_row(successor))
                return SpendResult.SPENT
            row: tuple[Any, ...] | None = conn.execute(
                "SELECT t.spent_at, t.expires_at, f.revoked_at FROM refresh_tokens AS t "
                "JOIN refresh_families AS f ON f.family_id = t.family_id WHERE t.jti = ?", (jti,)).fetchone()
            conn.execute("ROLLBACK")
            return row

        outcome = await self._run("spend_refresh", _write(spend), commits=True)
        if isinstance(outcome, SpendResult):
            return outcome
        if outcome is None or outcome[1] <= now:
            return SpendResult.UNKNOWN
        if outcome[2] is not None:
            return SpendResult.REVOKED
        return SpendResult.REUSED

    # ---- SessionStore
    async def add_session(self, record: SessionRecord) -> None:
        row = (record.key_hash, json.dumps(record.data), record.expires_at)

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO sessions (session_key, session_data, expire_date) VALUES (?, ?, ?)", row)

        await self._run("add_session", _write(insert), commits=True)

    async def get_session(self, key_hash: str) -> SessionRecord | None:
        row = await self._run("get_session", lambda conn: conn.execute(
            "SELECT session_data, expire_date FROM sessions WHERE session_key = ?", (key_hash,)).fetchone())
        if row is None:
            return None
        return SessionRecord(key_hash=key_hash, data=json.loads(row[0]), expires_at=row[1])

    async def delete_session(self, key_hash: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE session_key = ?", (key_hash,))

        await self._run("delete_session", _write(delete), commits=True)


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


def _write(body: Operation[T]) -> Operation[T]:
    """``body`` in one write transaction: ``BEGIN IMMEDIATE`` takes the write lock first (so a
    busy database answers before anything changed), then commit, unless ``body`` rolled back;
    any exception rolls back."""
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


def _unavailable(what: str, exc: BaseException) -> ServiceUnavailableError:
    log.warning("storage failure during %s: %s", what, describe_failure(exc))
    return ServiceUnavailableError()


def _token_row(record: RefreshRecord) -> tuple[Any, ...]:
    return (record.jti, record.family_id, record.user_id, record.issued_at, record.expires_at, None,
            record.access_jti, record.access_expires_at)


def _extend_family(successor: RefreshRecord) -> tuple[str, tuple[Any, ...]]:
    """The family's ``UPDATE`` of :meth:`SqlStore.spend_refresh`: expiry and latest access-token
    expiry raised to the successor's, its ``kid``, while not revoked."""
    sets = ["expires_at = CASE WHEN expires_at < ? THEN ? ELSE expires_at END"]
    params: list[Any] = [successor.expires_at, successor.expires_at]
    if successor.kid is not None:
        sets.append("kid = ?")
        params.append(successor.kid)
    if successor.access_expires_at is not None:
        sets.append("access_expires_at = CASE WHEN access_expires_at IS NULL OR access_expires_at < ? "
                    "THEN ? ELSE access_expires_at END")
        params += [successor.access_expires_at, successor.access_expires_at]
    params.append(successor.family_id)
    return (f"UPDATE refresh_families SET {', '.join(sets)} "  # noqa: S608 (constant fragments)
            "WHERE family_id = ? AND revoked_at IS NULL", tuple(params))
