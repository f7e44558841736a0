"""SQL storage (SQLAlchemy 2 async): SQLite via aiosqlite, PostgreSQL via asyncpg."""

from __future__ import annotations

from jwtkit.auth.ports import Stores


async def open_sql_stores(database_url: str, *, schema: str | None = None) -> Stores:
    raise NotImplementedError
