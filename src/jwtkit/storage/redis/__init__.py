"""Redis adapters: the login rate limiter, the revocation feed and the cookie sessions shared by
every worker. The database stays the source of truth for revocations; Redis is the fast shared copy
and the messenger.

``open_redis(url)`` is what the composition root (:func:`jwtkit.wiring.open_stores`) calls::

    redis = await open_redis("redis://127.0.0.1:6379/0")
    stores = await open_sql_stores(database_url, rate_limiter=redis.rate_limiter, feed=redis.feed)
    ...
    await redis.close()
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from jwtkit.auth.errors import ServiceUnavailableError

from .errors import REDIS_ERRORS
from .feed import RedisRevocationFeed
from .rate_limiter import RedisRateLimiter
from .resp import RespGet
from .sessions import RedisSessionStore
from .tracking import TrackedReads

__all__ = ["RedisHandles", "RedisRateLimiter", "RedisRevocationFeed", "RedisSessionStore", "open_redis"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RedisHandles:
    """What :func:`open_redis` returns; ``close`` stops the feed and closes the connections."""

    rate_limiter: RedisRateLimiter
    feed: RedisRevocationFeed
    close: Callable[[], Awaitable[None]]
    sessions: RedisSessionStore


async def open_redis(
    url: str,
    *,
    prefix: str = "jwtkit:",
    timeout: float = 2.0,
    ping_interval: float = 0.25,
    start_feed: bool = True,
    max_connections: int = 64,
    session_cache_entries: int = 10_000,
) -> RedisHandles:
    """Connect to Redis at ``url``, check it answers, and start the revocation feed.

    ``prefix`` namespaces every key and the channel (several deployments may share one Redis).
    ``timeout`` bounds connecting, each command, the wait for one of the ``max_connections``
    pooled connections, and the wait for the feed's first
    subscription; a command retries twice with a short backoff, then fails with
    ``ServiceUnavailableError`` rather than stalling a request.
    ``session_cache_entries`` bounds the sessions kept in this process, read again without a round
    trip and invalidated by Redis (:mod:`.tracking`); ``0`` turns that cache off. A TLS or unix
    socket URL has no cache: its reads go through redis-py.

    Example::

        handles = await open_redis("redis://127.0.0.1:6379/0", prefix="jwtkit:")
        wait = await handles.rate_limiter.acquire([("user:alice", 5)], now=time.time(), window=300)
        await handles.close()

    Raises:
        ServiceUnavailableError: Redis does not answer, or the feed cannot subscribe in time.
        ValueError: a malformed URL.
    """
    # A blocking pool: a burst of more concurrent commands than connections waits (up to
    # ``timeout``) for a free connection instead of failing with "Too many connections".
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
    )
    client = Redis.from_pool(pool)
    cache = TrackedReads(max_entries=session_cache_entries) if session_cache_entries > 0 else None
    reader = RespGet.from_url(url, timeout=timeout, cache=cache)  # the session reads' lean GET (None: TLS, unix socket)
    feed = RedisRevocationFeed(client, prefix=prefix, ping_interval=ping_interval)
    try:
        await client.ping()
        if start_feed:
            await feed.start(timeout=timeout)
    except REDIS_ERRORS as exc:
        await client.aclose()
        raise ServiceUnavailableError() from exc
    except BaseException:
        await client.aclose()
        raise

    async def close() -> None:
        try:
            await feed.close()
        finally:
            if reader is not None:
                await reader.close()
            await client.aclose()

    return RedisHandles(rate_limiter=RedisRateLimiter(client, prefix=prefix), feed=feed, close=close,
                        sessions=RedisSessionStore(client, prefix=prefix, reader=reader))
