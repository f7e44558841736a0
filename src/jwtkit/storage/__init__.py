"""Storage adapters for the ports of :mod:`jwtkit.auth.ports`.

``open_stores(url)`` is the factory the composition root calls: ``memory://`` for the in-memory
reference adapter, ``sqlite+aiosqlite:///path.db`` (the default) or
``postgresql+asyncpg://user@host:5432/db`` for SQL.
"""

from __future__ import annotations

from jwtkit.auth.ports import Stores

__all__ = ["open_stores"]


async def open_stores(database_url: str, *, schema: str | None = None) -> Stores:
    """Open (and on first use create) the stores behind ``database_url``.

    ``schema`` (PostgreSQL only) puts every table in that schema, created if missing.
    The rate limiter and revocation feed are in-process (issue 4 adds Redis ones).

    Example::

        stores = await open_stores("sqlite+aiosqlite:///jwtkit.db")
        service = await AuthService.open(AuthSettings(), stores)

    Raises:
        ServiceUnavailableError: the database cannot be reached.
        ValueError: an unsupported URL scheme.
    """
    if database_url.startswith("memory:"):
        from .memory import open_memory_stores

        return open_memory_stores()
    from .sql import open_sql_stores

    return await open_sql_stores(database_url, schema=schema)
