"""SQL storage (SQLAlchemy 2 async): SQLite via aiosqlite (the default), PostgreSQL via asyncpg.

One schema on both (see :mod:`.schema`), created or upgraded at open. The login rate limiter
can live in the database too (:class:`SqlRateLimiter`), for processes that share it without Redis.
On an SQLite file the per-request methods run on the standard library's ``sqlite3`` instead
(:class:`SqliteDirectStore`, :mod:`.sqlite_connections`; the limiter :mod:`.sqlite_rate_limiter`),
and on PostgreSQL on asyncpg directly (:mod:`.postgres_direct`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.ports import RateLimiter, RevocationFeed, Stores
from jwtkit.storage.in_process import LocalRevocationFeed, MemoryRateLimiter

from .engine import make_engine, unavailable_on_failure
from .rate_limiter import SqlRateLimiter
from .schema import SCHEMA_VERSION, SchemaTooNewError, UsernameCollisionError, ensure_schema
from .sqlite_direct import SqliteDirectStore
from .sqlite_rate_limiter import SqliteDirectRateLimiter
from .store import SqlStore

__all__ = ["SCHEMA_VERSION", "SchemaTooNewError", "SqlRateLimiter", "SqlStore", "SqliteDirectStore",
           "UsernameCollisionError", "open_sql_store", "open_sql_stores"]

log = logging.getLogger(__name__)


async def open_sql_stores(
    database_url: str,
    *,
    schema: str | None = None,
    shared_rate_limiter: bool = False,
    rate_limiter: RateLimiter | None = None,
    feed: RevocationFeed | None = None,
) -> Stores:
    """Connect, create or upgrade the schema, and return the stores. ``close`` disposes of the engine.

    The login rate limiter is ``rate_limiter`` when given (the composition root passes Redis's),
    else a :class:`SqlRateLimiter` on the same engine when ``shared_rate_limiter`` (every process
    on this database counts the same attempts: what several processes need without Redis), else
    an in-process :class:`~jwtkit.storage.in_process.MemoryRateLimiter`. The revocation feed is
    ``feed``, else an in-process :class:`~jwtkit.storage.in_process.LocalRevocationFeed`.

    Raises:
        ServiceUnavailableError: the database cannot be reached.
        SchemaTooNewError: the database was made by a newer jwtkit.
        UsernameCollisionError: upgrading to version 5 met usernames that differ only in case or
            Unicode form (nothing was changed; the message names them).
        ValueError: an unsupported URL or schema name.
    """
    engine = make_engine(database_url, schema=schema)
    database = engine.url.database
    # Checked here because aiosqlite leaves a worker thread behind when its connect fails.
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not _dir_exists(database):
        await engine.dispose()
        log.warning("SQLite database directory does not exist: %s", database)
        raise ServiceUnavailableError()
    try:
        async with unavailable_on_failure("opening the database"), engine.begin() as conn:
            await ensure_schema(conn, pg_schema=schema)
        store, close = await _store(engine, schema)
    except (ServiceUnavailableError, SchemaTooNewError, UsernameCollisionError):
        await engine.dispose()
        raise
    return Stores(
        users=store,
        tokens=store,
        sessions=store,
        keys=store,
        rate_limiter=rate_limiter if rate_limiter is not None
        else _shared_rate_limiter(engine, store) if shared_rate_limiter else MemoryRateLimiter(),
        feed=LocalRevocationFeed() if feed is None else feed,
        close=close,
    )


async def open_sql_store(database_url: str, *, schema: str | None = None,
                         ) -> tuple[SqlStore, Callable[[], Awaitable[None]]]:
    """A second store on a database :func:`open_sql_stores` has already opened (its schema made):
    the same direct store, with connections of its own, and what closes it. What the revocation
    poll's reader thread reads through (:func:`jwtkit.wiring.open_stores`).

    Raises:
        ServiceUnavailableError: the database cannot be reached.
    """
    engine = make_engine(database_url, schema=schema)
    try:
        return await _store(engine, schema)
    except BaseException:
        await engine.dispose()
        raise


async def _store(engine: AsyncEngine, schema: str | None) -> tuple[SqlStore, Callable[[], Awaitable[None]]]:
    """The store and what closes it: an SQLite file gets :class:`SqliteDirectStore` (its hot paths
    on ``sqlite3``), PostgreSQL :class:`~.postgres_direct.PostgresDirectStore` (its hot paths on
    asyncpg directly), in-memory SQLite (private to the engine's one connection) :class:`SqlStore`."""
    database = engine.url.database
    if engine.dialect.name == "postgresql":
        from .postgres_direct import open_postgres_direct  # asyncpg: the postgres extra's

        return await open_postgres_direct(engine, schema=schema)
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        direct = SqliteDirectStore.open(engine, database)
        return direct, direct.close
    return SqlStore(engine), engine.dispose


def _shared_rate_limiter(engine: AsyncEngine, store: SqlStore) -> SqlRateLimiter:
    if isinstance(store, SqliteDirectStore):
        return SqliteDirectRateLimiter(engine, store.database)
    return SqlRateLimiter(engine)


def _dir_exists(database: str) -> bool:
    return Path(database).resolve().parent.is_dir()
