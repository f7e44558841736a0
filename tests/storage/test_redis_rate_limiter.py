"""``RedisRateLimiter`` against the real Redis on 127.0.0.1:6379 (db 15, a random key prefix
per test): the same sliding window as the in-memory reference, shared by every worker.

Without Redis these tests skip, except under ``CI`` where they fail.
"""

import asyncio
import os
import random
import secrets
import socket

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.storage.memory import MemoryRateLimiter
from jwtkit.storage.redis import RedisRateLimiter, open_redis

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/15"
T0 = 1_700_000_000.25  # a wall-clock-like time; keys live `window` real seconds after a hit
WINDOW = 60.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def redis():
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI but 127.0.0.1:6379 does not answer: {exc!r}")
        pytest.skip(f"Redis is not running on 127.0.0.1:6379 ({exc!r})")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis):
    prefix = f"jwtkit-test:{secrets.token_hex(6)}:"
    yield prefix
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
def limiter(redis, prefix) -> RedisRateLimiter:
    return RedisRateLimiter(redis, prefix=prefix)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_key_without_events_is_not_throttled(limiter):
    assert await limiter.retry_after("user:alice", now=T0, window=WINDOW, limit=3) == 0.0


async def test_fewer_events_than_the_limit_do_not_throttle(limiter):
    for i in range(2):
        await limiter.hit("user:alice", now=T0 + i, window=WINDOW, limit=3)

    assert await limiter.retry_after("user:alice", now=T0 + 2, window=WINDOW, limit=3) == 0.0


async def test_the_limit_throttles_until_the_oldest_event_leaves_the_window(limiter):
    for i in range(3):
        await limiter.hit("user:alice", now=T0 + i, window=WINDOW, limit=3)

    assert await limiter.retry_after("user:alice", now=T0 + 3, window=WINDOW, limit=3) == T0 + WINDOW - (T0 + 3)


async def test_an_event_exactly_window_seconds_old_no_longer_counts(limiter):
    for i in range(3):
        await limiter.hit("user:alice", now=T0 + i, window=WINDOW, limit=3)

    assert await limiter.retry_after("user:alice", now=T0 + WINDOW, window=WINDOW, limit=3) == 0.0


async def test_only_the_latest_limit_events_are_kept(limiter, redis):
    for i in range(5):
        await limiter.hit("user:alice", now=T0 + i, window=WINDOW, limit=3)

    assert await redis.zcard(limiter.redis_key("user:alice")) == 3
    # The 3rd newest event (at T0 + 2) decides.
    assert await limiter.retry_after("user:alice", now=T0 + 5, window=WINDOW, limit=3) == T0 + 2 + WINDOW - (T0 + 5)


async def test_events_at_the_same_instant_each_count(limiter):
    for _ in range(3):
        await limiter.hit("client:203.0.113.7", now=T0, window=WINDOW, limit=3)

    assert await limiter.retry_after("client:203.0.113.7", now=T0, window=WINDOW, limit=3) == WINDOW


async def test_reset_forgets_the_key(limiter):
    for i in range(3):
        await limiter.hit("user:alice", now=T0 + i, window=WINDOW, limit=3)

    await limiter.reset("user:alice")

    assert await limiter.retry_after("user:alice", now=T0 + 3, window=WINDOW, limit=3) == 0.0


async def test_keys_are_counted_separately(limiter):
    for i in range(3):
        await limiter.hit("user:alice", now=T0 + i, window=WINDOW, limit=3)

    assert await limiter.retry_after("user:bob", now=T0 + 3, window=WINDOW, limit=3) == 0.0


async def test_keys_live_under_the_prefix_and_expire_with_their_window(limiter, redis, prefix):
    await limiter.hit("user:alice", now=T0, window=WINDOW, limit=3)

    assert limiter.redis_key("user:alice") == f"{prefix}rl:user:alice"
    ttl_ms = await redis.pttl(f"{prefix}rl:user:alice")
    assert 0 < ttl_ms <= WINDOW * 1000


async def test_two_workers_share_one_count(redis, prefix):
    worker_a = RedisRateLimiter(redis, prefix=prefix)
    worker_b = RedisRateLimiter(Redis.from_url(REDIS_URL), prefix=prefix)
    try:
        await asyncio.gather(
            *(worker.hit("user:alice", now=T0 + i / 100, window=WINDOW, limit=20)
              for i, worker in enumerate([worker_a, worker_b] * 10))
        )
        assert await worker_a.retry_after("user:alice", now=T0 + 1, window=WINDOW, limit=20) > 0
        assert await worker_b.retry_after("user:alice", now=T0 + 1, window=WINDOW, limit=21) == 0.0
    finally:
        await worker_b._client.aclose()


async def test_answers_exactly_like_the_memory_reference(limiter):
    # A differential test: one random sequence of hits, resets and questions on both limiters.
    rng = random.Random(4)
    reference = MemoryRateLimiter()
    now = T0
    for _ in range(300):
        now += rng.choice([0.0, 0.001, 0.37, 1.5, 4.0, 9.99])
        key = rng.choice(["user:alice", "user:bob", "client:203.0.113.7"])
        action = rng.random()
        if action < 0.55:
            await reference.hit(key, now=now, window=10.0, limit=4)
            await limiter.hit(key, now=now, window=10.0, limit=4)
        elif action < 0.6:
            await reference.reset(key)
            await limiter.reset(key)
        expected = await reference.retry_after(key, now=now, window=10.0, limit=4)
        assert await limiter.retry_after(key, now=now, window=10.0, limit=4) == expected, (key, now)


async def test_a_redis_outage_is_service_unavailable():
    client = Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    limiter = RedisRateLimiter(client)
    try:
        with pytest.raises(ServiceUnavailableError):
            await limiter.hit("user:alice", now=T0, window=WINDOW, limit=3)
        with pytest.raises(ServiceUnavailableError):
            await limiter.retry_after("user:alice", now=T0, window=WINDOW, limit=3)
        with pytest.raises(ServiceUnavailableError):
            await limiter.reset("user:alice")
    finally:
        await client.aclose()


async def test_open_redis_gives_a_working_limiter(redis, prefix):
    handles = await open_redis(REDIS_URL, prefix=prefix, start_feed=False)
    try:
        await handles.rate_limiter.hit("user:alice", now=T0, window=WINDOW, limit=1)
        assert await handles.rate_limiter.retry_after("user:alice", now=T0, window=WINDOW, limit=1) == WINDOW
    finally:
        await handles.close()


async def test_open_redis_on_a_dead_address_is_service_unavailable():
    with pytest.raises(ServiceUnavailableError):
        await open_redis(f"redis://127.0.0.1:{closed_port()}/15", timeout=0.5)
