"""``RedisRateLimiter``: the :class:`~jwtkit.auth.ports.RateLimiter` port shared by every
worker, a sliding log per key in a Redis sorted set (score = event time).

Same behaviour as :class:`jwtkit.storage.memory.MemoryRateLimiter` (the reference): an event
counts while it is newer than ``now - window``; only the latest ``limit`` events are kept.
"""

from __future__ import annotations

import math
import secrets
from typing import Any, cast

from redis.asyncio import Redis

from .errors import unavailable_on_redis_error

__all__ = ["RedisRateLimiter"]

# One atomic step: drop events that left the window, add this one, keep the latest `limit`,
# and let the key expire with its window (so idle keys never pile up).
# Scores travel as the strings Python formatted (repr: exact round trip), never through a Lua
# number, so the arithmetic matches the in-memory reference bit for bit.
_HIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if excess > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 0
"""


class RedisRateLimiter:
    """A sliding-window counter per key, shared through Redis.

    ``now`` comes from the caller's wall clock (the service's ``clock``); the key's time to
    live is the window, so a limiter key lives at most ``window`` seconds after its last event.

    Example::

        limiter = RedisRateLimiter(Redis.from_url("redis://127.0.0.1:6379/0"))
        await limiter.hit("user:alice", now=time.time(), window=300, limit=5)

    Raises (every method):
        ServiceUnavailableError: Redis is unreachable or failing.
    """

    def __init__(self, client: Redis, *, prefix: str = "jwtkit:") -> None:
        self._client = client
        self._prefix = f"{prefix}rl:"
        self._hit_script = client.register_script(_HIT)

    def redis_key(self, key: str) -> str:
        """The Redis key holding ``key``'s events."""
        return self._prefix + key

    async def hit(self, key: str, *, now: float, window: float, limit: int) -> None:
        member = f"{now!r}:{secrets.token_hex(6)}"  # unique: two events may share a time
        ttl_ms = max(1, math.ceil(window * 1000))
        with unavailable_on_redis_error():
            await self._hit_script(
                keys=[self.redis_key(key)],
                args=[repr(float(now)), repr(float(now - window)), member, max(0, limit), ttl_ms],
            )

    async def retry_after(self, key: str, *, now: float, window: float, limit: int) -> float:
        if limit <= 0:
            return 0.0
        with unavailable_on_redis_error():
            # The newest `limit` live events, newest first: one read, atomic by itself.
            reply = await self._client.zrevrangebyscore(
                self.redis_key(key), "+inf", f"({float(now - window)!r}", start=0, num=limit, withscores=True
            )
        newest = cast("list[tuple[Any, float]]", reply)
        if len(newest) < limit:
            return 0.0
        # Allowed again when the limit-th newest event leaves the window.
        return max(0.0, float(newest[-1][1]) + window - now)

    async def reset(self, key: str) -> None:
        with unavailable_on_redis_error():
            await self._client.delete(self.redis_key(key))
