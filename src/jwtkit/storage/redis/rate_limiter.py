"""``RedisRateLimiter``: the :class:`~jwtkit.auth.ports.RateLimiter` port shared by every
worker, a sliding log per key in a Redis sorted set (score = event time).

Same behaviour as :class:`jwtkit.storage.memory.MemoryRateLimiter` (the reference): an event
counts while it is newer than ``now - window``; a key never holds more than ``limit`` of them.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis

from .errors import unavailable_on_redis_error

__all__ = ["RedisRateLimiter"]

# One atomic step over every key: drop events that left the key's window; if a key already holds
# `limit` live events, record nothing and return, per such key, its position and the score of its
# limit-th newest event (the caller computes the wait); otherwise add this event to every key and
# let each key expire with its window (so idle keys never pile up).
# Scores travel as the strings Python formatted (repr: exact round trip), never through a Lua
# number, so the arithmetic matches the in-memory reference bit for bit.
# ARGV: now, member, then per key: now - window, limit, ttl_ms.
_ACQUIRE = """
local over = {}
for i, key in ipairs(KEYS) do
  local base = 3 * i
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[base])
  local limit = tonumber(ARGV[base + 1])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    table.insert(over, i)
    table.insert(over, oldest[2])
  end
end
if #over > 0 then
  return over
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[1], ARGV[2])
  redis.call('PEXPIRE', key, ARGV[3 * i + 2])
end
return over
"""

# Remove one event with score exactly ARGV[1] (a reservation given back).
_RELEASE = """
local found = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if found[1] then
  redis.call('ZREM', KEYS[1], found[1])
end
return 0
"""


class RedisRateLimiter:
    """A sliding-window counter per key, shared through Redis.

    ``now`` comes from the caller's wall clock (the service's ``clock``); the key's time to
    live is the window, so a limiter key lives at most ``window`` seconds after its last event.

    Example::

        limiter = RedisRateLimiter(Redis.from_url("redis://127.0.0.1:6379/0"))
        wait = await limiter.acquire([("user:alice", 5), ("client:203.0.113.7", 20)], now=time.time(), window=300)

    Raises (every method):
        ServiceUnavailableError: Redis is unreachable or failing.
    """

    def __init__(self, client: Redis, *, prefix: str = "jwtkit:") -> None:
        self._client = client
        self._prefix = f"{prefix}rl:"
        self._acquire_script = client.register_script(_ACQUIRE)
        self._release_script = client.register_script(_RELEASE)

    def redis_key(self, key: str) -> str:
        """The Redis key holding ``key``'s events."""
        return self._prefix + key

    async def acquire(self, keys: Sequence[tuple[str, int]], *, now: float, window: float) -> float:
        return await self.acquire_windows([(key, limit, window) for key, limit in keys], now=now)

    async def acquire_windows(self, limits: Sequence[tuple[str, int, float]], *, now: float) -> float:
        member = f"{now!r}:{secrets.token_hex(6)}"  # unique: two events may share a time
        args: list[Any] = [repr(float(now)), member]
        for _, limit, window in limits:
            args += [repr(float(now - window)), max(1, limit), max(1, math.ceil(window * 1000))]
        with unavailable_on_redis_error():
            reply = await self._acquire_script(keys=[self.redis_key(key) for key, _, _ in limits], args=args)
        over = cast("list[Any]", reply)
        pairs = zip(over[::2], over[1::2], strict=True)  # (1-based key position, score)
        waits = (float(score) + limits[int(position) - 1][2] - now for position, score in pairs)
        return max((max(0.0, wait) for wait in waits), default=0.0)

    async def release(self, key: str, *, now: float) -> None:
        with unavailable_on_redis_error():
            await self._release_script(keys=[self.redis_key(key)], args=[repr(float(now))])

    async def reset(self, key: str) -> None:
        with unavailable_on_redis_error():
            await self._client.delete(self.redis_key(key))

    async def purge(self, *, now: float) -> int:
        """Nothing to do, so 0 without a round trip: Redis itself forgets a key ``window`` seconds
        after its last event (its TTL), and ``acquire`` trims the events of a key it touches."""
        return 0
