"""``RespGet``: a lean Redis client for the one command the session hot path sends, ``GET``.

Why: a cookie-session lookup is one ``GET``, and through redis-py's asyncio client it cost about
100 µs of CPU (measured in-process, hiredis or not: the pool checkout, two ``asyncio.timeout``
blocks, the retry wrapper, event dispatch and the stream reader around a few bytes on the wire);
this client costs about 10-15 µs for the same ``GET``. Everything else (writes, transactions,
purges, the feed) stays on redis-py.

How: one TCP connection; commands are pipelined, each waiting for its reply in order (a deque of
futures: RESP replies come back in the order the commands went out), and the commands of one
event-loop turn leave in one write. The connection is opened on first use (``AUTH`` and
``SELECT`` as the URL says) and again after any failure. A command not answered within
``timeout`` closes the connection (a hung server, or a reply that would come too late; one timer
per connection watches the oldest command, none per command). A command whose connection was
lost is sent once more on a fresh connection (``GET`` is idempotent). A caller cancelled while
waiting leaves its future behind, so the replies that follow still reach the right callers.
Replies other than RESP2 bulk strings, simple strings, integers and errors close the connection
as a protocol error.

Only plain ``redis://`` TCP URLs: :meth:`RespGet.from_url` answers ``None`` for TLS (``rediss://``)
and unix sockets, and the session store then reads through redis-py.

Raises (``get``): ``ConnectionError`` and ``TimeoutError`` (both ``OSError``), :class:`RespReplyError`
(a ``RedisError``) for an error reply; the store turns each into ``ServiceUnavailableError``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

from redis.asyncio.connection import parse_url
from redis.exceptions import RedisError

__all__ = ["RespGet", "RespReplyError"]


class RespReplyError(RedisError):
    """Redis answered a command with an error reply (``-ERR …``, ``-NOAUTH …``)."""


def _pack(args: tuple[bytes, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class _Connection(asyncio.Protocol):
    """One connection: writes commands, parses replies, hands each to the oldest waiter.

    Commands sent in one turn of the event loop go out in one write (concurrent requests share a
    syscall). One timer per connection, not one per command, watches the oldest unanswered
    command: past its deadline the connection is closed and every waiter fails with ``TimeoutError``.
    """

    def __init__(self, timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout = timeout
        self._waiters: deque[tuple[asyncio.Future[bytes | None], float]] = deque()
        self._outgoing: list[bytes] = []
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._close(ConnectionError("the Redis connection was lost"))

    def send(self, *args: bytes) -> asyncio.Future[bytes | None]:
        if self.lost or self._transport is None:
            raise ConnectionError("the Redis connection is closed")
        waiter: asyncio.Future[bytes | None] = self._loop.create_future()
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(_pack(args))
        deadline = self._loop.time() + self._timeout
        self._waiters.append((waiter, deadline))
        if self._watchdog is None:
            self._watchdog = self._loop.call_at(deadline, self._check_deadline)
        return waiter

    def close(self, reason: Exception) -> None:
        self._close(reason)

    def _flush(self) -> None:
        if not self.lost and self._transport is not None:
            self._transport.write(b"".join(self._outgoing))
        self._outgoing.clear()

    def _check_deadline(self) -> None:
        self._watchdog = None
        if not self._waiters:
            return
        deadline = self._waiters[0][1]
        if deadline <= self._loop.time():
            self._close(TimeoutError("Redis did not answer in time"))
        else:
            self._watchdog = self._loop.call_at(deadline, self._check_deadline)

    def _close(self, reason: Exception) -> None:
        self.lost = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._transport is not None:
            self._transport.close()
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(reason)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            self._parse()
        except ValueError:
            self._close(ConnectionError("an unexpected reply from Redis"))

    def _parse(self) -> None:
        buffer, start = self._buffer, 0
        while (end := buffer.find(b"\r\n", start)) >= 0:
            kind = buffer[start]
            reply: bytes | RespReplyError | None
            if kind == 0x24:  # $: a bulk string, or nil
                size = int(buffer[start + 1:end])
                following = end + 2 if size < 0 else end + 4 + size
                if len(buffer) < following:
                    break
                if size >= 0 and buffer[following - 2:following] != b"\r\n":
                    raise ValueError("bulk string not terminated")
                reply = None if size < 0 else bytes(buffer[end + 2:following - 2])
            elif kind in (0x2B, 0x3A):  # + a simple string, : an integer
                reply, following = bytes(buffer[start + 1:end]), end + 2
            elif kind == 0x2D:  # - an error
                reply, following = RespReplyError(buffer[start + 1:end].decode("utf-8", "replace")), end + 2
            else:
                raise ValueError(f"unsupported RESP type {kind!r}")
            if not self._waiters:
                raise ValueError("a reply nobody asked for")
            start = following
            waiter, _ = self._waiters.popleft()
            if waiter.done():  # its caller was cancelled or timed out
                continue
            if isinstance(reply, RespReplyError):
                waiter.set_exception(reply)
            else:
                waiter.set_result(reply)
        del buffer[:start]


class RespGet:
    """``GET`` on one pipelined connection (see the module docstring).

    Example::

        reader = RespGet.from_url("redis://127.0.0.1:6379/0", timeout=2.0)
        value = await reader.get(b"jwtkit:session:…")   # bytes, or None for a missing key
        await reader.close()
    """

    def __init__(self, host: str, port: int, *, db: int = 0, username: str | None = None,
                 password: str | None = None, timeout: float = 2.0) -> None:
        self._address = (host, port)
        self._db = db
        self._auth = tuple(part.encode() for part in (username, password) if part is not None) if password else ()
        self._timeout = timeout
        self._connection: _Connection | None = None
        self._connecting = asyncio.Lock()
        self._closed = False

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0) -> RespGet | None:
        """The client for a ``redis://`` URL, or ``None`` for one it does not speak (TLS, a unix socket)."""
        options = parse_url(url)
        if "connection_class" in options:
            return None
        return cls(str(options.get("host", "localhost")), int(options.get("port", 6379)),
                   db=int(options.get("db", 0)), username=options.get("username"),
                   password=options.get("password"), timeout=timeout)

    async def get(self, key: bytes) -> bytes | None:
        """The value at ``key``, ``None`` if there is none."""
        try:
            return await self._command(b"GET", key)
        except ConnectionError:  # e.g. Redis restarted since the last command: once more, on a fresh connection
            return await self._command(b"GET", key)

    async def close(self) -> None:
        """Close the connection; later calls raise ``ConnectionError``."""
        self._closed = True
        if self._connection is not None:
            self._connection.close(ConnectionError("the Redis client was closed"))
            self._connection = None

    async def _command(self, *args: bytes) -> bytes | None:
        connection = self._connection
        if connection is None or connection.lost:
            connection = await self._connect()
        return await connection.send(*args)  # (the connection's watchdog bounds the wait)

    async def _connect(self) -> _Connection:
        async with self._connecting:
            if self._closed:
                raise ConnectionError("the Redis client was closed")
            if self._connection is not None and not self._connection.lost:
                return self._connection  # another caller connected meanwhile
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self._timeout):
                _, connection = await loop.create_connection(lambda: _Connection(self._timeout), *self._address)
                try:
                    if self._auth:
                        await connection.send(b"AUTH", *self._auth)
                    if self._db:
                        await connection.send(b"SELECT", b"%d" % self._db)
                except BaseException:
                    connection.close(ConnectionError("the Redis handshake failed"))
                    raise
            if self._closed:  # closed while connecting
                connection.close(ConnectionError("the Redis client was closed"))
                raise ConnectionError("the Redis client was closed")
            self._connection = connection
            return connection
