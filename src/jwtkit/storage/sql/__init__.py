"""SQL storage (SQLAlchemy 2 async): SQLite via aiosqlite (the default), PostgreSQL via asyncpg.

One schema on both (see :mod:`.schema`), created or upgraded at open. The login rate limiter
can live in the database too (:class:`SqlRateLimiter`), for processes that share it without Redis.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.ports import Stores
from jwtkit.storage.memory import LocalRevocationFeed, MemoryRateLimiter

from .engine import make_engine, unavailable_on_failure
from .rate_limiter import SqlRateLimiter
from .schema import SCHEMA_VERSION, SchemaTooNewError, UsernameCollisionError, ensure_schema
from .store import SqlStore

__all__ = ["SCHEMA_VERSION", "SchemaTooNewError", "SqlRateLimiter", "SqlStore", "UsernameCollisionError",
           "open_sql_stores"]

log = logging.getLogger(__name__)


async def open_sql_stores(
    database_url: str, *, schema: str | None = None, shared_rate_limiter: bool = False
) -> Stores:
    """Connect, create or upgrade the schema, and return the stores (the feed in-process).
    ``close`` disposes of the engine.

    The login rate limiter is in-process (:class:`~jwtkit.storage.memory.MemoryRateLimiter`)
    unless ``shared_rate_limiter``: then it is a :class:`SqlRateLimiter` on the same engine, so
    every process on this database counts the same attempts (what several processes need when
    there is no Redis to share the count).

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
    except (ServiceUnavailableError, SchemaTooNewError, UsernameCollisionError):
        await engine.dispose()
        raise
    store = SqlStore(engine)
    return Stores(
        users=store,
        tokens=store,
        sessions=store,
        keys=store,
        rate_limiter=SqlRateLimiter(engine) if shared_rate_limiter else MemoryRateLimiter(),
        feed=LocalRevocationFeed(),
        close=engine.dispose,
    )


def _dir_exists(database: str) -> bool:
    return Path(database).resolve().parent.is_dir()
