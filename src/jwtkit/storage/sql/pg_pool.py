"""``ConnectionPool``: the few asyncpg connections ``PostgresDirectStore`` runs its per-request
statements on, handed out and taken back with nothing else to do in between.

Why not asyncpg's own pool: a round trip through ``pool.acquire()`` cost ~84 µs of CPU where the
same ``SELECT 1`` on a bare connection cost 44 µs (uvloop; ``acquire(timeout=…)`` ~90 µs: it
waits through ``asyncio.wait_for``, a task per call): a queue, a connection holder and a proxy
per acquire, a reset coroutine per release. Here an idle connection is popped from a list, and a
caller waits (on a future, with its deadline) only when all ``max_size`` connections are busy.

A connection goes back to the idle list only when it is known to be clean: the statement ended,
or the server answered it with an error (a ``PostgresError``: the connection is fine). After
anything else (a lost connection, a statement timeout, a cancelled request) it may be mid-query,
so it is terminated and its slot freed: the next caller that needs one opens a new connection.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg  # type: ignore[import-untyped]  # (no type information shipped)

__all__ = ["ConnectionPool"]

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class ConnectionPool:
    """At most ``max_size`` connections made by ``connect``, reused last-in first-out.

    Example::

        pool = await ConnectionPool.open(lambda: asyncpg.connect(dsn), max_size=10)
        conn = await pool.acquire(timeout=5)
        try:
            row = await conn.fetchrow("SELECT 1")
        except asyncpg.PostgresError:
            pool.release_nowait(conn)  # the server answered: the connection is clean
            raise
        except BaseException:
            pool.release_nowait(conn, broken=True)
            raise
        pool.release_nowait(conn)
    """

    def __init__(self, connect: Connect, *, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._connect = connect
        self._max_size = max_size
        self._idle: list[asyncpg.Connection] = []
        self._open = 0  # connections open or being opened, idle or in use
        self._waiters: collections.deque[asyncio.Future[asyncpg.Connection | None]] = collections.deque()
        self._closed = False

    @classmethod
    async def open(cls, connect: Connect, *, max_size: int) -> ConnectionPool:
        """A pool with one connection open already (so a server that cannot be reached fails here)."""
        pool = cls(connect, max_size=max_size)
        pool.release_nowait(await pool._new())
        return pool

    def get_max_size(self) -> int:
        return self._max_size

    def get_size(self) -> int:
        """Connections open (or being opened), idle or in use."""
        return self._open

    async def acquire(self, timeout: float | None = None) -> asyncpg.Connection:
        """An idle connection, a new one while fewer than ``max_size`` are open, or the next one
        released; ``timeout`` bounds the wait for one.

        Raises:
            TimeoutError: none within ``timeout``.
            asyncpg.InterfaceError: the pool is closed.
            OSError, asyncpg.PostgresError: a new connection could not be opened.
        """
        conn = self._pop_idle()
        return conn if conn is not None else await self._acquire_waiting(timeout)

    def release_nowait(self, conn: asyncpg.Connection, *, broken: bool = False) -> None:
        """Take ``conn`` back: to the first waiter, or to the idle list; terminated instead when
        ``broken``, closed, inside a transaction, or the pool is closed."""
        if broken or self._closed or conn.is_closed() or conn.is_in_transaction():
            self._open -= 1
            if not conn.is_closed():
                conn.terminate()
            self._hand_to_waiter(None)  # a free slot: that waiter opens a connection
            return
        if not self._hand_to_waiter(conn):
            self._idle.append(conn)

    async def close(self) -> None:
        """Close the idle connections; the ones in use are terminated when released; waiters and
        later callers get ``asyncpg.InterfaceError``."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the connection pool is closed"))
        idle, self._idle = self._idle, []
        for conn in idle:
            self._open -= 1
            try:
                await conn.close(timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()

    async def _acquire_waiting(self, timeout: float | None) -> asyncpg.Connection:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the connection pool is closed")
            conn = self._pop_idle()
            if conn is not None:
                return conn
            if self._open < self._max_size:
                return await self._new()
            waiter: asyncio.Future[asyncpg.Connection | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                remaining = None if deadline is None else max(0.0, deadline - loop.time())
                handed = await asyncio.wait_for(waiter, remaining)
            except BaseException:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    given = waiter.result()  # handed over as we gave up: pass it on
                    if given is not None:
                        self.release_nowait(given)
                    else:
                        self._hand_to_waiter(None)
                raise
            if handed is not None:
                return handed
            # None: a connection was dropped; its slot is free, so loop and open one

    def _pop_idle(self) -> asyncpg.Connection | None:
        """The most recently released idle connection the server has not closed, or None."""
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.is_closed():
                return conn
            self._open -= 1  # the server closed it while it was idle
        return None

    async def _new(self) -> asyncpg.Connection:
        self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._hand_to_waiter(None)
            raise

    def _hand_to_waiter(self, conn: asyncpg.Connection | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False
