"""``PostgresDirectStore``: :class:`~.store.SqlStore` on PostgreSQL with the hot paths on asyncpg directly.

Why: through the async SQLAlchemy engine one session lookup on PostgreSQL cost ~1.4 ms of CPU
and three round trips (the pool's pre-ping, the statement, the rollback on check-in), and more
than five concurrent requests made its overflow connections open and close per request. Here
the methods a request calls (users, sessions, starting and spending refresh tokens) and the
revocation poll's two reads (denials since a time, the signing keys) run on a lean pool of
asyncpg connections (``.pg_pool``): each is ONE prepared statement (asyncpg caches the prepared
statement per connection), one round trip, nothing on check-in (these statements leave no
session state; a connection that may be mid-statement or inside a transaction is dropped).
Everything else (revocations, key changes, purging) is inherited unchanged.

Same schema (made by :func:`.schema.ensure_schema`), same semantics, same locks:

- ``start_family`` inserts the family and its first token in one statement (all or nothing).
- ``spend_refresh`` is one statement whose parts run in the order their data needs: the
  conditional ``UPDATE … WHERE spent_at IS NULL`` of the token (its row lock decides between
  concurrent spends, as in ``SqlStore``), then the family's ``UPDATE … WHERE revoked_at IS
  NULL`` (the same token-then-family lock order), then the successor's ``INSERT``, whose
  ``family_id`` is the one the family update returned: when the token was not spendable or its
  family was revoked, that is NULL, the NOT NULL constraint aborts the whole statement and
  nothing changes. Only then a second read classifies the refusal (unknown, revoked, reused).
- Failures are ``ServiceUnavailableError``, logged with class names and SQLSTATE only (as
  :func:`.engine.unavailable_on_failure` does); a read that met a connection the server had
  closed is retried once on a fresh one (a write never is: it may have committed).
- The optional schema is the connections' ``search_path``; connecting gives up after
  ``POSTGRESQL_CONNECT_TIMEOUT``, a statement and the wait for a pooled connection after the
  statement timeout, as on the engine.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]  # (no type information shipped)
from sqlalchemy.ext.asyncio import AsyncEngine

from jwtkit.auth.errors import UsernameTakenError
from jwtkit.auth.models import Denial, RefreshRecord, SessionRecord, SigningKeyRecord, UserRecord, username_key
from jwtkit.auth.ports import SpendResult, UserSpend

from .engine import POSTGRESQL_CONNECT_TIMEOUT, POSTGRESQL_STATEMENT_TIMEOUT, storage_unavailable
from .pg_pool import ConnectionPool
from .store import SIGNING_KEYS_SQL, USER_COLUMNS, SqlStore, signing_key_record, user_record

__all__ = ["PostgresDirectStore", "open_postgres_direct", "open_postgres_pool"]

log = logging.getLogger(__name__)

POOL_MAX_SIZE = 10
"""Connections per process on the hot paths (the engine keeps its own, few, for the rest)."""

T = TypeVar("T")

# ---- users: store.USER_COLUMNS and store.user_record, the one column list and row mapping of every store
_USER_COLUMNS = ", ".join(USER_COLUMNS)


# (Built from module constants only, never from input.)
_USER_BY_ID = f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1"  # noqa: S608
_USER_BY_KEY = f"SELECT {_USER_COLUMNS} FROM users WHERE username_key = $1"  # noqa: S608
_CREATE_USER = ("INSERT INTO users (username, username_key, password_hash, created_at) VALUES ($1, $2, $3, $4) "
                "RETURNING id")

# ---- refresh tokens
_START_FAMILY = """
WITH family AS (
    INSERT INTO refresh_families (family_id, user_id, created_at, expires_at, revoked_at, access_expires_at, kid)
    VALUES ($2, $3, $4, $5, NULL, $6, $8)
    RETURNING family_id
)
INSERT INTO refresh_tokens (jti, family_id, user_id, issued_at, expires_at, spent_at, access_jti, access_expires_at)
SELECT $1, family.family_id, $3, $4, $5, NULL, $7, $6 FROM family
"""
_GET_REFRESH = """
SELECT t.jti, t.family_id, t.user_id, t.issued_at, t.expires_at, t.spent_at, t.access_jti, t.access_expires_at,
       f.revoked_at
FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id
WHERE t.jti = $1
"""
# The family of a spent token (the ``spent`` part before it): its expiry and latest access-token expiry raised
# to the successor's ($7, $9), its key id ($10); nothing for a revoked family, whose NULL makes the insert fail.
_EXTEND_FAMILY = """family AS (
    UPDATE refresh_families SET
        expires_at = CASE WHEN expires_at < $7 THEN $7 ELSE expires_at END,
        kid = COALESCE($10, kid),
        access_expires_at = CASE
            WHEN $9::double precision IS NULL THEN access_expires_at
            WHEN access_expires_at IS NULL OR access_expires_at < $9 THEN $9
            ELSE access_expires_at END
    WHERE family_id = $4 AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM spent)
    RETURNING family_id
)"""
# $1 jti, $2 now, $3..$9 the successor: jti, family_id, user_id, issued_at, expires_at, access_jti,
# access_expires_at, $10 its kid. Each part reads the one before it, so they run (and lock) in order.
_SPEND = f"""
WITH spent AS (
    UPDATE refresh_tokens SET spent_at = $2, successor_jti = $3
    WHERE jti = $1 AND spent_at IS NULL AND expires_at > $2
    RETURNING jti
), {_EXTEND_FAMILY}
INSERT INTO refresh_tokens (jti, family_id, user_id, issued_at, expires_at, spent_at, access_jti, access_expires_at)
VALUES ($3, (SELECT family_id FROM family), $5, $6, $7, NULL, $8, $9)
"""  # noqa: S608 (module constants only)
# _SPEND for a live user, whose row comes back with the outcome ($11: the user's id), in one round
# trip: the user is read first (``alive``); the token is spent and the successor stored only for a
# user who exists and is not disabled. A deleted or disabled user makes no error: nothing is
# spent, nothing stored, and the one row says who the user is (NULLs: none) and ``stored`` false.
# For a live user any refusal is the NOT NULL abort of _SPEND (nothing changes either).
_SPEND_FOR_USER = f"""
WITH alive AS (
    SELECT {_USER_COLUMNS} FROM users WHERE id = $11
), live AS (
    SELECT 1 FROM alive WHERE disabled_at IS NULL
), spent AS (
    UPDATE refresh_tokens SET spent_at = $2, successor_jti = $3
    WHERE jti = $1 AND spent_at IS NULL AND expires_at > $2 AND EXISTS (SELECT 1 FROM live)
    RETURNING jti
), {_EXTEND_FAMILY}, stored AS (
    INSERT INTO refresh_tokens (jti, family_id, user_id, issued_at, expires_at, spent_at, access_jti,
                                access_expires_at)
    SELECT $3, (SELECT family_id FROM family), $5, $6, $7, NULL, $8, $9 WHERE EXISTS (SELECT 1 FROM live)
    RETURNING jti
)
SELECT alive.*, EXISTS (SELECT 1 FROM stored) AS stored FROM (SELECT 1) AS one LEFT JOIN alive ON true
"""  # noqa: S608 (module constants only)
# Why _SPEND_FOR_USER refused a live user's token (nothing changed): the user as it is now (NULLs:
# gone since) and the token (NULLs: unknown).
_USER_SPEND_REFUSED = f"""
SELECT {', '.join('u.' + c for c in USER_COLUMNS)}, t.expires_at, f.revoked_at
FROM (SELECT $1::text AS jti) AS wanted
LEFT JOIN users u ON u.id = $2
LEFT JOIN refresh_tokens t ON t.jti = wanted.jti
LEFT JOIN refresh_families f ON f.family_id = t.family_id
"""  # noqa: S608 (module constants only)
_SPEND_REFUSED = """
SELECT t.expires_at, f.revoked_at
FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id
WHERE t.jti = $1
"""
_SPENT_SUCCESSOR = """
SELECT successor.jti, successor.family_id, successor.user_id, successor.issued_at, successor.expires_at,
       successor.spent_at, successor.access_jti, successor.access_expires_at
FROM refresh_tokens spent
JOIN refresh_tokens successor ON successor.jti = spent.successor_jti
JOIN refresh_families f ON f.family_id = spent.family_id
WHERE spent.jti = $1 AND spent.spent_at >= $2 AND f.revoked_at IS NULL
"""

# ---- sessions
_ADD_SESSION = "INSERT INTO sessions (session_key, session_data, expire_date) VALUES ($1, $2, $3)"
_GET_SESSION = "SELECT session_data, expire_date FROM sessions WHERE session_key = $1"
_DELETE_SESSION = "DELETE FROM sessions WHERE session_key = $1"

# ---- the revocation poll's reads (every poll interval: ~1.5 ms of CPU each through the engine)
_DENIALS_SINCE = "SELECT kind, jti, exp FROM denylist WHERE created_at >= $1 AND exp > $2"

# A connection the server closed (terminated, restarted) before or while a statement ran on it.
_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.InterfaceError, asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.AdminShutdownError,
    ConnectionError,
)
# What asyncpg and the network raise: server errors, client-side (closed connection) errors, timeouts.
_FAILURES: tuple[type[BaseException], ...] = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError,
                                              ConnectionError)


async def open_postgres_pool(engine: AsyncEngine, *, schema: str | None = None,
                             statement_timeout: float = POSTGRESQL_STATEMENT_TIMEOUT) -> ConnectionPool:
    """A pool of asyncpg connections to the engine's database, with the engine's connection
    settings: the URL's host, user, password, database and options, ``schema`` as the
    ``search_path``, the connect and statement timeouts. Opens one connection now (so a server
    that cannot be reached fails here).

    Raises:
        ServiceUnavailableError: the database cannot be reached.
    """
    _, params = engine.dialect.create_connect_args(engine.url)
    params = {**params, "timeout": POSTGRESQL_CONNECT_TIMEOUT, "command_timeout": statement_timeout}
    if schema is not None:  # validated by make_engine, which made ``engine`` with it
        params["server_settings"] = {"search_path": schema}

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(**params)

    try:
        return await ConnectionPool.open(connect, max_size=POOL_MAX_SIZE)
    except _FAILURES as exc:
        raise storage_unavailable("opening the connection pool", exc) from exc


async def open_postgres_direct(
    engine: AsyncEngine, *, schema: str | None = None
) -> tuple[PostgresDirectStore, Callable[[], Awaitable[None]]]:
    """The store on ``engine`` (its schema made) and a pool of its own, and what closes both.

    Raises:
        ServiceUnavailableError: the database cannot be reached.
    """
    store = PostgresDirectStore(engine, await open_postgres_pool(engine, schema=schema))

    async def close() -> None:
        try:
            await store.close()
        finally:
            await engine.dispose()

    return store, close


class PostgresDirectStore(SqlStore):
    """:class:`SqlStore` whose per-request methods use ``pool`` (see the module docstring);
    ``close`` closes the pool (the engine is the caller's, as for ``SqlStore``).

    Example::

        engine = make_engine("postgresql+asyncpg://app@db/jwtkit")
        store = PostgresDirectStore(engine, await open_postgres_pool(engine))

    Raises (every method):
        ServiceUnavailableError: the database is unreachable or failing.
    """

    def __init__(self, engine: AsyncEngine, pool: ConnectionPool, *, clock: Callable[[], float] = time.time,
                 statement_timeout: float = POSTGRESQL_STATEMENT_TIMEOUT) -> None:
        super().__init__(engine, clock=clock)
        self.pool = pool
        self._acquire_timeout = statement_timeout

    async def close(self) -> None:
        await self.pool.close()

    # ---- plumbing
    async def _read(self, what: str, query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``query`` on a pooled connection; once more on another if the server had closed it."""
        try:
            try:
                return await self._on_connection(query)
            except _CONNECTION_LOST as exc:
                log.info("retrying %s on a fresh connection after %s", what, type(exc).__name__)
            return await self._on_connection(query)
        except _FAILURES as exc:
            raise storage_unavailable(what, exc) from exc

    async def _write(self, what: str, query: Callable[[asyncpg.Connection], Awaitable[T]], *,
                     decides: type[Exception] | None = None) -> T:
        """``query`` on a pooled connection; ``decides``, an error the caller turns into an answer,
        is raised as it is (unlogged)."""
        try:
            return await self._on_connection(query)
        except _FAILURES as exc:
            if decides is not None and isinstance(exc, decides):
                raise
            raise storage_unavailable(what, exc) from exc

    async def _on_connection(self, query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """``query`` on a connection of the pool, given back clean, or dropped when it may not be
        (see ``jwtkit.storage.sql.pg_pool``)."""
        pool = self.pool
        conn = await pool.acquire(self._acquire_timeout)
        try:
            result = await query(conn)
        except asyncpg.PostgresError:  # the server answered: the connection is fine
            pool.release_nowait(conn)
            raise
        except BaseException:
            pool.release_nowait(conn, broken=True)
            raise
        pool.release_nowait(conn)
        return result

    # ---- UserStore
    async def create_user(self, username: str, password_hash: str, *, now: float) -> UserRecord:
        try:
            user_id = await self._write("create_user", lambda conn: conn.fetchval(
                _CREATE_USER, username, username_key(username), password_hash, now),
                decides=asyncpg.UniqueViolationError)
        except asyncpg.UniqueViolationError:
            raise UsernameTakenError() from None
        return UserRecord(id=int(user_id), username=username, password_hash=password_hash)

    async def get_user(self, user_id: int) -> UserRecord | None:
        row = await self._read("get_user", lambda conn: conn.fetchrow(_USER_BY_ID, user_id))
        return None if row is None else user_record(row)

    async def get_user_by_name(self, username: str) -> UserRecord | None:
        key = username_key(username)
        row = await self._read("get_user", lambda conn: conn.fetchrow(_USER_BY_KEY, key))
        return None if row is None else user_record(row)

    # ---- TokenStore (the hot half)
    async def start_family(self, first: RefreshRecord) -> None:
        await self._write("start_family", lambda conn: conn.execute(
            _START_FAMILY, first.jti, first.family_id, first.user_id, first.issued_at, first.expires_at,
            first.access_expires_at, first.access_jti, first.kid))

    async def get_refresh(self, jti: str) -> RefreshRecord | None:
        row = await self._read("get_refresh", lambda conn: conn.fetchrow(_GET_REFRESH, jti))
        return None if row is None else _refresh_record(row, revoked_at=row["revoked_at"])

    async def spend_refresh(self, jti: str, *, now: float, successor: RefreshRecord) -> SpendResult:
        s = successor
        try:
            await self._write("spend_refresh", lambda conn: conn.execute(
                _SPEND, jti, now, s.jti, s.family_id, s.user_id, s.issued_at, s.expires_at, s.access_jti,
                s.access_expires_at, s.kid), decides=asyncpg.NotNullViolationError)
            return SpendResult.SPENT
        except asyncpg.NotNullViolationError:
            pass
        # Refused (nothing changed): a fresh read says why, as SqlStore's does after its update.
        row = await self._read("spend_refresh", lambda conn: conn.fetchrow(_SPEND_REFUSED, jti))
        if row is None or row["expires_at"] <= now:
            return SpendResult.UNKNOWN
        if row["revoked_at"] is not None:
            return SpendResult.REVOKED
        return SpendResult.REUSED

    async def spend_refresh_for_user(self, user_id: int, jti: str, *, now: float,
                                     successor: RefreshRecord) -> UserSpend:
        s = successor
        try:
            row = await self._write("spend_refresh", lambda conn: conn.fetchrow(
                _SPEND_FOR_USER, jti, now, s.jti, s.family_id, s.user_id, s.issued_at, s.expires_at, s.access_jti,
                s.access_expires_at, s.kid, user_id), decides=asyncpg.NotNullViolationError)
            user = None if row["id"] is None else user_record(row)
            return UserSpend(user, SpendResult.SPENT if row["stored"] else None)
        except asyncpg.NotNullViolationError:
            pass
        # A live user's token refused (nothing changed): one read says why, as spend_refresh's does.
        row = await self._read("spend_refresh", lambda conn: conn.fetchrow(_USER_SPEND_REFUSED, jti, user_id))
        user = None if row["id"] is None else user_record(row)
        if user is None or user.disabled_at is not None:  # since the spend: refused for the user all the same
            return UserSpend(user, None)
        if row["expires_at"] is None or row["expires_at"] <= now:
            return UserSpend(user, SpendResult.UNKNOWN)
        if row["revoked_at"] is not None:
            return UserSpend(user, SpendResult.REVOKED)
        return UserSpend(user, SpendResult.REUSED)

    async def spent_successor(self, jti: str, *, spent_since: float) -> RefreshRecord | None:
        row = await self._read("spent_successor", lambda conn: conn.fetchrow(_SPENT_SUCCESSOR, jti, spent_since))
        return None if row is None else _refresh_record(row, revoked_at=None)

    # ---- the revocation poll's reads
    async def denials_since(self, since: float, *, now: float) -> list[Denial]:
        rows = await self._read("denials_since", lambda conn: conn.fetch(_DENIALS_SINCE, since, now))
        return [Denial(kind=row["kind"], value=row["jti"], expires_at=row["exp"]) for row in rows]

    async def signing_keys(self) -> list[SigningKeyRecord]:
        rows = await self._read("signing_keys", lambda conn: conn.fetch(SIGNING_KEYS_SQL))
        return [signing_key_record(row) for row in rows]

    # ---- SessionStore
    async def add_session(self, record: SessionRecord) -> None:
        data = json.dumps(record.data)
        await self._write("add_session", lambda conn: conn.execute(
            _ADD_SESSION, record.key_hash, data, record.expires_at))

    async def get_session(self, key_hash: str) -> SessionRecord | None:
        row = await self._read("get_session", lambda conn: conn.fetchrow(_GET_SESSION, key_hash))
        if row is None:
            return None
        return SessionRecord(key_hash=key_hash, data=json.loads(row["session_data"]), expires_at=row["expire_date"])

    async def delete_session(self, key_hash: str) -> None:
        await self._write("delete_session", lambda conn: conn.execute(_DELETE_SESSION, key_hash))


def _refresh_record(row: Any, *, revoked_at: float | None) -> RefreshRecord:
    return RefreshRecord(
        jti=row["jti"], family_id=row["family_id"], user_id=row["user_id"], issued_at=row["issued_at"],
        expires_at=row["expires_at"], access_expires_at=row["access_expires_at"], access_jti=row["access_jti"],
        spent_at=row["spent_at"], revoked_at=revoked_at,
    )
