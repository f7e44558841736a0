"""``SqliteDirectRateLimiter``: :class:`.rate_limiter.SqlRateLimiter` on an SQLite file, its
per-login methods (``acquire_windows``, ``release``, ``reset``) on ``sqlite3`` through the store's
:class:`.sqlite_connections.SqliteConnections` (inline, or on its thread while another process
holds the lock). A login reserves and then releases or clears up to seven keys: through
SQLAlchemy's async engine that was seven round trips to aiosqlite's thread per login.

The same statements and the same arithmetic (:func:`.rate_limiter.wait_for`): ``acquire`` takes the
database's write lock first (``BEGIN IMMEDIATE``), then drops the keys' dead events, reads their
live ones and records the new one, so of concurrent attempts in any number of processes at most
``limit`` get through. ``purge`` stays the inherited one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from .rate_limiter import SqlRateLimiter, stored_key, wait_for
from .sqlite_connections import SqliteConnections, write

__all__ = ["SqliteDirectRateLimiter"]


class SqliteDirectRateLimiter(SqlRateLimiter):
    """A sliding-window counter per key, shared by every process on the SQLite file.

    Raises (every method):
        ServiceUnavailableError: the database is unreachable, locked past the busy timeout, or failing.
    """

    def __init__(self, engine: AsyncEngine, database: SqliteConnections) -> None:
        super().__init__(engine)
        self._database = database

    async def acquire_windows(self, limits: Sequence[tuple[str, int, float]], *, now: float) -> float:
        entries = [(stored_key(key), max(1, limit), window) for key, limit, window in limits]
        windows: dict[str, float] = {}
        for name, _, window in entries:
            windows[name] = max(window, windows.get(name, window))
        names = sorted(windows)
        marks = ", ".join("?" * len(names))

        def acquire(conn: sqlite3.Connection) -> float:
            conn.executemany("DELETE FROM login_attempts WHERE key = ? AND at <= ?",
                             [(name, now - windows[name]) for name in names])
            rows: list[Any] = conn.execute(
                f"SELECT key, at FROM login_attempts WHERE key IN ({marks}) AND at > ? "  # noqa: S608 (marks)
                "ORDER BY key, at, id", (*names, now - max(windows.values()))).fetchall()
            wait = wait_for(entries, rows, now=now)
            if wait <= 0:
                conn.executemany("INSERT INTO login_attempts (key, at, expires_at) VALUES (?, ?, ?)",
                                 [(name, now, now + windows[name]) for name in names])
            return wait

        if not names:
            return 0.0
        return await self._database.run("rate limiter acquire", write(acquire), commits=True)

    async def release(self, key: str, *, now: float) -> None:
        def release(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM login_attempts WHERE id = (SELECT id FROM login_attempts "
                         "WHERE key = ? AND at = ? ORDER BY id LIMIT 1)", (stored_key(key), now))

        await self._database.run("rate limiter release", write(release), commits=True)

    async def reset(self, key: str) -> None:
        def reset(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM login_attempts WHERE key = ?", (stored_key(key),))

        await self._database.run("rate limiter reset", write(reset), commits=True)
