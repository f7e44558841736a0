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
Replies are parsed as RESP3 (of which RESP2 is a subset); anything else closes the connection as a
protocol error.

With a :class:`~.tracking.TrackedReads` (``cache=``), :meth:`RespGet.get_cached` serves repeated
reads from memory: each connection says ``HELLO 3`` and ``CLIENT TRACKING ON`` (default mode) after
``AUTH``/``SELECT``, so Redis's invalidation pushes (``>``) arrive on the connection the ``GET``s
use, in order with their replies (RESP3 on the one connection, rather than ``REDIRECT`` to a second
one subscribed to ``__redis__:invalidate``: nothing to reconcile between two streams, no second
connection to watch). Tracking is per connection, so every close of one (dropped, killed, timed
out, a protocol error) empties the cache (:meth:`~.tracking.TrackedReads.lose`) before a new one
exists. A server that refuses ``HELLO 3`` or ``CLIENT TRACKING`` (Redis < 6, an ACL) leaves the
cache off and the reads as plain ``GET``s. Tracking is by key name, not database: a write to the
same name in another database invalidates too (harmlessly).

Only plain ``redis://`` TCP URLs: :meth:`RespGet.from_url` answers ``None`` for TLS (``rediss://``)
and unix sockets, and the session store then reads through redis-py.

Raises (``get``): ``ConnectionError`` and ``TimeoutError`` (both ``OSError``), :class:`RespReplyError`
(a ``RedisError``) for an error reply; the store turns each into ``ServiceUnavailableError``.
"""

from __future__ import annotations

import asyncio
import select
from collections import deque
from typing import cast

from redis.asyncio.connection import parse_url
from redis.exceptions import RedisError

from .tracking import TrackedReads

__all__ = ["RespGet", "RespReplyError"]


class RespReplyError(RedisError):
    """Redis answered a command with an error reply (``-ERR …``, ``-NOAUTH …``)."""


class _Push(list[object]):
    """An out-of-band RESP3 push (``>``): not the reply to any command."""


def _pack(args: tuple[bytes, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def _value(buffer: bytearray, start: int) -> tuple[object, int] | None:
    """The RESP3 value at ``start`` and where the next begins; ``None`` while it is incomplete.

    Raises ``ValueError`` for anything that is not RESP (the connection is then closed)."""
    end = buffer.find(b"\r\n", start)
    if end < 0:
        return None
    kind = buffer[start]
    if kind in b"$!=":  # a blob string (or RESP2 nil), a blob error, a verbatim string
        size = int(buffer[start + 1:end])
        if size < 0:
            return None, end + 2
        following = end + 4 + size
        if len(buffer) < following:
            return None
        if buffer[following - 2:following] != b"\r\n":
            raise ValueError("blob not terminated")
        data = bytes(buffer[end + 2:following - 2])
        if kind == 0x21:
            return RespReplyError(data.decode("utf-8", "replace")), following
        return (data[4:] if kind == 0x3D else data), following  # (a verbatim string starts "txt:")
    if kind in b"+:,#(":  # a simple string, an integer, a double, a boolean, a big number
        return bytes(buffer[start + 1:end]), end + 2
    if kind == 0x2D:  # - an error
        return RespReplyError(buffer[start + 1:end].decode("utf-8", "replace")), end + 2
    if kind == 0x5F:  # _ null
        return None, end + 2
    if kind in b"*~%>":  # an array, a set, a map (two values an entry), a push
        count = int(buffer[start + 1:end])
        if count < 0:  # RESP2's null array
            return None, end + 2
        items: list[object] = _Push() if kind == 0x3E else []
        position = end + 2
        for _ in range(count * 2 if kind == 0x25 else count):
            parsed = _value(buffer, position)
            if parsed is None:
                return None
            item, position = parsed
            items.append(item)
        return items, position
    raise ValueError(f"unsupported RESP type {kind!r}")


class _Connection(asyncio.Protocol):
    """One connection: writes commands, parses replies, hands each to the oldest waiter.

    Commands sent in one turn of the event loop go out in one write (concurrent requests share a
    syscall). One timer per connection, not one per command, watches the oldest unanswered
    command: past its deadline the connection is closed and every waiter fails with ``TimeoutError``.
    Once :meth:`track` attaches the cache, replies to tracked ``GET``s are kept in it as they are
    parsed, invalidation pushes empty it, and closing the connection loses it.
    """

    def __init__(self, timeout: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout = timeout
        # each waiter: its future, its deadline, and for a tracked GET its key and the cache's epoch
        self._waiters: deque[tuple[asyncio.Future[object], float, bytes | None, int]] = deque()
        self._outgoing: list[bytes] = []
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._cache: TrackedReads | None = None
        self._unread: select.poll | None = None  # (POSIX only: elsewhere the cache serves nothing)
        self._parsed: list[asyncio.Future[None]] = []  # readers waiting for the next data_received
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and hasattr(select, "poll"):
            self._unread = select.poll()
            self._unread.register(sock.fileno(), select.POLLIN)

    def drained(self) -> bool:
        """Nothing Redis sent is waiting unparsed in the socket (no push, no close): ~1 µs, a
        zero-timeout ``poll``. The event loop reads the socket only between callbacks, so without
        this a request could be served from the cache after an invalidation or the connection's end
        had already arrived."""
        return self._unread is not None and not self.lost and not self._unread.poll(0)

    async def parsed(self) -> None:
        """Return once the event loop has handed this connection what is waiting in its socket (the next
        ``data_received``, or the connection's end): what Redis sent until then is applied to the cache.
        A reader that found the socket not :meth:`drained` waits for this instead of sending a ``GET``:
        under load a reply is nearly always in flight, and a ``GET`` per such read would keep one in
        flight for the next read, and so on (every read a round trip again)."""
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._parsed.append(waiter)
        await waiter

    def _release_parsed(self) -> None:
        waiters, self._parsed = self._parsed, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._close(ConnectionError("the Redis connection was lost"))

    def track(self, cache: TrackedReads, sent_at: float) -> None:
        """Tracking is on (its command, sent at ``sent_at``, was answered): fill and serve ``cache``."""
        if not self.lost:
            self._cache = cache
            cache.tracking, cache.synced_at = True, sent_at

    def send(self, *args: bytes, tracked: bytes | None = None) -> asyncio.Future[object]:
        if self.lost or self._transport is None:
            raise ConnectionError("the Redis connection is closed")
        waiter: asyncio.Future[object] = self._loop.create_future()
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(_pack(args))
        deadline = self._loop.time() + self._timeout
        cache = self._cache
        self._waiters.append((waiter, deadline, tracked if cache is not None else None,
                              cache.epoch if cache is not None else 0))
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
        if not self.lost and self._cache is not None:
            self._cache.lose()  # pushes may be lost from here on: before any new connection exists
        self.lost = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._transport is not None:
            self._transport.close()
        while self._waiters:
            waiter = self._waiters.popleft()[0]
            if not waiter.done():
                waiter.set_exception(reason)
        self._release_parsed()  # (its readers see ``lost`` and go to Redis on a new connection)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        try:
            self._parse()
        except ValueError:
            self._close(ConnectionError("an unexpected reply from Redis"))
        self._release_parsed()

    def _parse(self) -> None:
        buffer, start = self._buffer, 0
        while (parsed := _value(buffer, start)) is not None:
            reply, start = parsed
            cache = self._cache
            if type(reply) is _Push:
                if cache is not None and len(reply) >= 2 and reply[0] == b"invalidate":
                    keys = reply[1]
                    cache.invalidate(cast("list[bytes]", keys) if isinstance(keys, list) else None)
                continue
            if not self._waiters:
                raise ValueError("a reply nobody asked for")
            waiter, deadline, tracked, epoch = self._waiters.popleft()
            if cache is not None:
                cache.synced_at = deadline - self._timeout  # (when it was sent: replies come in order)
                if tracked is not None and type(reply) is bytes:
                    cache.keep(tracked, reply, epoch)
            if waiter.done():  # its caller was cancelled or timed out
                continue
            if isinstance(reply, RespReplyError):
                waiter.set_exception(reply)
            else:
                waiter.set_result(reply)
        del buffer[:start]


class RespGet:
    """``GET`` on one pipelined connection, optionally through a tracked local cache (see the module docstring).

    Example::

        reader = RespGet.from_url("redis://127.0.0.1:6379/0", timeout=2.0)
        value = await reader.get(b"jwtkit:session:…")   # bytes, or None for a missing key
        await reader.close()
    """

    def __init__(self, host: str, port: int, *, db: int = 0, username: str | None = None,
                 password: str | None = None, timeout: float = 2.0, cache: TrackedReads | None = None) -> None:
        self._address = (host, port)
        self._db = db
        self._auth = tuple(part.encode() for part in (username, password) if part is not None) if password else ()
        self._timeout = timeout
        self._connection: _Connection | None = None
        self._connecting = asyncio.Lock()
        self._closed = False
        self.cache = cache

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 2.0, cache: TrackedReads | None = None) -> RespGet | None:
        """The client for a ``redis://`` URL, or ``None`` for one it does not speak (TLS, a unix socket)."""
        options = parse_url(url)
        if "connection_class" in options:
            return None
        return cls(str(options.get("host", "localhost")), int(options.get("port", 6379)),
                   db=int(options.get("db", 0)), username=options.get("username"),
                   password=options.get("password"), timeout=timeout, cache=cache)

    async def get(self, key: bytes) -> bytes | None:
        """The value at ``key``, ``None`` if there is none (always a round trip)."""
        return await self._get(key, None)

    PARSED_WAITS = 3  # a reader waits at most this many reads of the socket before it sends its own GET

    async def get_cached(self, key: bytes) -> bytes | None:
        """The value at ``key`` from the tracked cache when it is usable there, else as :meth:`get`
        (concurrent reads of one key then share one ``GET``, and its reply is kept)."""
        cache = self.cache
        if cache is None:
            return await self._get(key, None)
        connection = self._connection
        loop = asyncio.get_running_loop()
        waits = 0
        while (connection is not None and not connection.lost and cache.usable(loop.time())
               and not connection.drained() and waits < self.PARSED_WAITS):
            await connection.parsed()  # something waits unread (an invalidation?): applied first, then look
            connection, waits = self._connection, waits + 1
        if connection is None or not cache.usable(loop.time()) or not connection.drained():
            return await self._get(key, key)  # its reply may refill the cache (and prove the link)
        value = cache.lookup(key)
        if value is not None:
            return value
        pending = cache.inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._get(key, key))
            cache.inflight[key] = pending
            pending.add_done_callback(lambda done: _settled(cache, key, done))
        return await asyncio.shield(pending)

    def forget(self, keys: list[bytes]) -> None:
        """The caller wrote ``keys`` (through another client): the cache drops them at once."""
        if self.cache is not None:
            self.cache.forget(keys)

    async def close(self) -> None:
        """Close the connection; later calls raise ``ConnectionError``."""
        self._closed = True
        if self._connection is not None:
            self._connection.close(ConnectionError("the Redis client was closed"))
            self._connection = None

    async def _get(self, key: bytes, tracked: bytes | None) -> bytes | None:
        try:
            return cast("bytes | None", await self._command(b"GET", key, tracked=tracked))
        except ConnectionError:  # e.g. Redis restarted since the last command: once more, on a fresh connection
            return cast("bytes | None", await self._command(b"GET", key, tracked=tracked))

    async def _command(self, *args: bytes, tracked: bytes | None = None) -> object:
        connection = self._connection
        if connection is None or connection.lost:
            connection = await self._connect()
        return await connection.send(*args, tracked=tracked)  # (the connection's watchdog bounds the wait)

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
                    if self.cache is not None:
                        await self._track(connection, self.cache)
                except BaseException:
                    connection.close(ConnectionError("the Redis handshake failed"))
                    raise
            if self._closed:  # closed while connecting
                connection.close(ConnectionError("the Redis client was closed"))
                raise ConnectionError("the Redis client was closed")
            self._connection = connection
            return connection

    @staticmethod
    async def _track(connection: _Connection, cache: TrackedReads) -> None:
        """Switch to RESP3 and turn tracking on; a server refusing either leaves the cache off."""
        try:
            await connection.send(b"HELLO", b"3")
            sent_at = asyncio.get_running_loop().time()
            await connection.send(b"CLIENT", b"TRACKING", b"ON")
        except RespReplyError:
            return
        connection.track(cache, sent_at)


def _settled(cache: TrackedReads, key: bytes, done: asyncio.Future[bytes | None]) -> None:
    """A shared ``GET`` finished: no longer joinable (unless an invalidation already replaced it)."""
    if cache.inflight.get(key) is done:
        del cache.inflight[key]
    if not done.cancelled():
        done.exception()  # retrieved: every caller may have been cancelled
