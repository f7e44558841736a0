"""``SqliteDirectStore``: :class:`.store.SqlStore` with its hot paths on the standard library's
``sqlite3``: the per-request reads and writes of login, register, refresh and cookie sessions, and
the revocation poll's two reads (denials since a time, the signing keys).

Why: through SQLAlchemy's async engine on aiosqlite, a one-row lookup crosses to aiosqlite's thread
and back for every step (connect, begin, execute, fetch, rollback, close) and builds and compiles
the statement in between: about 0.6 ms of CPU per session lookup here (1.6 ms on a loaded server),
and a sequential refresh waited ~10 ms for those hand-offs on a busy machine. Here a statement is
a cached prepared ``sqlite3`` statement, with the same SQL semantics on the same schema (created and
upgraded by :mod:`.schema` through SQLAlchemy, as before), run by :class:`.sqlite_connections.
SqliteConnections`: inline on the event loop, or on its thread while another connection holds the
lock (that module says why). Everything else (revocations, key changes, purging) stays on the inherited
SQLAlchemy methods; both see each other's commits at once (one file, WAL).

Every failure is ``ServiceUnavailableError`` (a taken username is ``UsernameTakenError``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from jwtkit.auth.errors import UsernameTakenError
from jwtkit.auth.models import Denial, RefreshRecord, SessionRecord, SigningKeyRecord, UserRecord, username_key
from jwtkit.auth.ports import SpendResult, UserSpend

from .engine import SQLITE_BUSY_TIMEOUT_MS
from .sqlite_connections import SqliteConnections, write
from .store import SIGNING_KEYS_SQL, USER_COLUMNS, SqlStore, signing_key_record, user_record

__all__ = ["SqliteDirectStore"]

# The users columns a UserRecord is made of (USER_COLUMNS, beside user_record in .store).
_SELECT_USER = f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE "  # noqa: S608 (constant names)
_SELECT_BY_NAME, _SELECT_BY_ID = _SELECT_USER + "username_key = ?", _SELECT_USER + "id = ?"
_TOKEN_COLUMNS = ("jti", "family_id", "user_id", "issued_at", "expires_at", "spent_at", "access_jti",
                  "access_expires_at")
_INSERT_TOKEN = (f"INSERT INTO refresh_tokens ({', '.join(_TOKEN_COLUMNS)}) "  # noqa: S608
                 f"VALUES ({', '.join('?' * len(_TOKEN_COLUMNS))})")
_SELECT_REFRESH = (f"SELECT {', '.join('t.' + c for c in _TOKEN_COLUMNS)}, f.revoked_at "  # noqa: S608
                   "FROM refresh_tokens AS t JOIN refresh_families AS f ON f.family_id = t.family_id WHERE t.jti = ?")


class SqliteDirectStore(SqlStore):
    """:class:`SqlStore` on an SQLite file, its hot methods on ``sqlite3`` (see the module docstring).

    Build it with :meth:`open` after the schema exists; :meth:`close` closes its connections and
    disposes of the engine.

    Raises (every method):
        ServiceUnavailableError: the database is unreachable, unwritable, locked past the busy
            timeout, or failing.
    """

    def __init__(self, engine: AsyncEngine, database: SqliteConnections, *,
                 clock: Callable[[], float] = time.time) -> None:
        """Use :meth:`open`."""
        super().__init__(engine, clock=clock)
        self.database = database
        self._run = database.run

    @classmethod
    def open(cls, engine: AsyncEngine, path: str, *,
             busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> SqliteDirectStore:
        """The store on the SQLite file ``path`` (its schema already created).

        Raises:
            ServiceUnavailableError: the file cannot be opened.
        """
        return cls(engine, SqliteConnections.open(path, busy_timeout_ms=busy_timeout_ms))

    async def close(self) -> None:
        """Close the connections and dispose of the engine (closing again does nothing more); the
        store answers ``ServiceUnavailableError`` from then on."""
        try:
            await self.database.close()
        finally:
            await self.engine.dispose()

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

        user_id = await self._run("create_user", write(insert), commits=True)
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

        await self._run("start_family", write(insert), commits=True)

    async def get_refresh(self, jti: str) -> RefreshRecord | None:
        row = await self._run("get_refresh", lambda conn: conn.execute(_SELECT_REFRESH, (jti,)).fetchone())
        if row is None:
            return None
        return RefreshRecord(**dict(zip(_TOKEN_COLUMNS, row, strict=False)), revoked_at=row[-1])

    async def spend_refresh(self, jti: str, *, now: float, successor: RefreshRecord) -> SpendResult:
        return await self._run("spend_refresh", write(lambda conn: _spend(conn, jti, now, successor)), commits=True)

    async def spend_refresh_for_user(self, user_id: int, jti: str, *, now: float,
                                     successor: RefreshRecord) -> UserSpend:
        def spend(conn: sqlite3.Connection) -> UserSpend:
            row = conn.execute(_SELECT_BY_ID, (user_id,)).fetchone()
            user = None if row is None else user_record(row)
            if user is None or user.disabled_at is not None:
                conn.execute("ROLLBACK")
                return UserSpend(user, None)
            return UserSpend(user, _spend(conn, jti, now, successor))

        return await self._run("spend_refresh", write(spend), commits=True)

    # ---- the revocation poll's reads (every poll interval: ~1.4 ms of CPU each through the engine)
    async def denials_since(self, since: float, *, now: float) -> list[Denial]:
        rows = await self._run("denials_since", lambda conn: conn.execute(
            "SELECT kind, jti, exp FROM denylist WHERE created_at >= ? AND exp > ?", (since, now)).fetchall())
        return [Denial(kind=kind, value=jti, expires_at=exp) for kind, jti, exp in rows]

    async def signing_keys(self) -> list[SigningKeyRecord]:
        rows = await self._run("signing_keys", lambda conn: conn.execute(SIGNING_KEYS_SQL).fetchall())
        return [signing_key_record(row) for row in rows]

    # ---- SessionStore
    async def add_session(self, record: SessionRecord) -> None:
        row = (record.key_hash, json.dumps(record.data), record.expires_at)

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO sessions (session_key, session_data, expire_date) VALUES (?, ?, ?)", row)

        await self._run("add_session", write(insert), commits=True)

    async def get_session(self, key_hash: str) -> SessionRecord | None:
        row = await self._run("get_session", lambda conn: conn.execute(
            "SELECT session_data, expire_date FROM sessions WHERE session_key = ?", (key_hash,)).fetchone())
        if row is None:
            return None
        return SessionRecord(key_hash=key_hash, data=json.loads(row[0]), expires_at=row[1])

    async def delete_session(self, key_hash: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE session_key = ?", (key_hash,))

        await self._run("delete_session", write(delete), commits=True)


def _spend(conn: sqlite3.Connection, jti: str, now: float, successor: RefreshRecord) -> SpendResult:
    """:meth:`SqlStore.spend_refresh`'s statements in the open write transaction (rolled back unless
    ``SPENT``)."""
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
        "SELECT t.expires_at, f.revoked_at FROM refresh_tokens AS t "
        "JOIN refresh_families AS f ON f.family_id = t.family_id WHERE t.jti = ?", (jti,)).fetchone()
    conn.execute("ROLLBACK")
    if row is None or row[0] <= now:
        return SpendResult.UNKNOWN
    return SpendResult.REUSED if row[1] is None else SpendResult.REVOKED


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
