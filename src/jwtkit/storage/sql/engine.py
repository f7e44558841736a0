"""Engines for SQLite (WAL, busy_timeout, foreign keys) and PostgreSQL (optional schema), and the
one place where database failures become ``ServiceUnavailableError``."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from jwtkit.auth.errors import ServiceUnavailableError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRESQL_CONNECT_TIMEOUT = 5.0
POSTGRESQL_STATEMENT_TIMEOUT = 10.0
"""Seconds before a PostgreSQL connect, or a statement, gives up: a partitioned or stalled server
is then a 503 (``ServiceUnavailableError``), not a request that hangs."""
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def make_engine(
    database_url: str, *, schema: str | None = None, statement_timeout: float = POSTGRESQL_STATEMENT_TIMEOUT
) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs. Its errors
    never carry the statement's parameters (``hide_parameters``): those are password hashes and
    private signing keys. On PostgreSQL, connecting gives up after ``POSTGRESQL_CONNECT_TIMEOUT``
    seconds, a statement after ``statement_timeout``, and waiting for a pooled connection after
    ``statement_timeout`` too. (SQLite waits for its lock up to its busy_timeout.)

    Raises:
        ValueError: another scheme, or a bad schema name.
    """
    url = sa.make_url(database_url)
    if url.drivername == "sqlite+aiosqlite":
        if schema is not None:
            raise ValueError("schema= is for PostgreSQL only")
        in_memory = url.database in (None, "", ":memory:")
        if not in_memory and url.database is not None and not url.database.startswith("file:"):
            create_private_file(url.database)
        engine = create_async_engine(url, poolclass=StaticPool if in_memory else None, hide_parameters=True)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if url.drivername == "postgresql+asyncpg":
        connect_args: dict[str, Any] = {"timeout": POSTGRESQL_CONNECT_TIMEOUT, "command_timeout": statement_timeout}
        if schema is not None:
            if _SCHEMA_NAME.fullmatch(schema) is None:
                raise ValueError(f"bad schema name {schema!r}")
            connect_args["server_settings"] = {"search_path": schema}
        return create_async_engine(url, pool_pre_ping=True, pool_timeout=statement_timeout,
                                   connect_args=connect_args, hide_parameters=True)
    raise ValueError(f"unsupported database URL scheme {url.drivername!r} (use sqlite+aiosqlite or postgresql+asyncpg)")


def create_private_file(path: str) -> None:
    """Create the SQLite file ``path`` readable by its owner alone (0600) if it does not exist yet:
    it holds the private signing keys (plain JWK without ``key_encryption_secret``) and the
    password hashes. SQLite then creates its ``-wal`` and ``-shm`` files with the database's
    permissions. An existing file keeps its mode; one that others can read gets a warning. A file
    that cannot be created (no such directory, no permission) is left to SQLite to report.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            log.warning("the database %s is readable by others (mode %o): it holds the signing keys and "
                        "password hashes; chmod 600 it (and its -wal and -shm files)", path, mode & 0o777)
        return
    except OSError:
        return
    os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the lock it needs:
    SQLite answers "database is locked" at once there, without its busy handler, so servers
    opening a new file together would otherwise fail. Gives up after the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # on the driver's connection thread, never the event loop


def rowcount(result: Any) -> int:
    """The number of rows a DML statement's result touched (typed: SQLAlchemy's is ``Any`` here)."""
    return int(result.rowcount)


@contextlib.asynccontextmanager
async def unavailable_on_failure(what: str) -> AsyncIterator[None]:
    """Turn every database or connection failure into ``ServiceUnavailableError`` (logged with
    its cause); integrity errors the caller did not handle are failures too."""
    try:
        yield
    except (sa_exc.SQLAlchemyError, OSError, TimeoutError, ConnectionError) as exc:
        raise storage_unavailable(what, exc) from exc


def storage_unavailable(what: str, exc: BaseException) -> ServiceUnavailableError:
    """The error a database or connection failure during ``what`` becomes (the caller chains
    ``exc``), logged as :func:`describe_failure` describes it. A plain function, so that the
    direct stores' per-request statements need no context manager (~10–15 µs of a refresh's CPU in the
    server, by a one-off timestamp probe)."""
    log.warning("storage failure during %s: %s", what, describe_failure(exc))
    return ServiceUnavailableError()


def describe_failure(exc: BaseException) -> str:
    """The failure's class names and SQLSTATE (or SQLite's error name), never its text: a driver's
    message may quote the row (PostgreSQL's "Key (...)=(...) already exists") or the statement's
    parameters."""
    names = [type(exc).__name__]
    sqlite_error = getattr(getattr(exc, "orig", exc), "sqlite_errorname", None)
    if isinstance(sqlite_error, str):
        names.append(sqlite_error)
    orig = getattr(exc, "orig", None)
    if orig is not None:
        names.append(type(orig).__name__)
        cause = getattr(orig, "__cause__", None)  # the driver's own exception, under the DB-API adapter
        if cause is not None:
            names.append(type(cause).__name__)
    # under SQLAlchemy the driver's error is ``orig``; asyncpg's own errors carry it themselves
    sqlstate = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None) or getattr(exc, "sqlstate", None)
    described = " / ".join(names)
    return f"{described} (SQLSTATE {sqlstate})" if isinstance(sqlstate, str) else described
