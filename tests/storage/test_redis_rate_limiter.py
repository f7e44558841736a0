"""``RedisRateLimiter`` against the real Redis on 127.0.0.1:6379 (db 15, a random key prefix
per test): the same sliding window as the in-memory reference, shared by every worker; a
reservation is checked and recorded in one atomic step.

Without Redis these tests skip, except under ``CI`` where they fail.
"""

import asyncio
import random
import socket

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

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
def limiter(redis, prefix) -> RedisRateLimiter:
    return RedisRateLimiter(redis, prefix=prefix)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def hit(limiter, key, now, limit=3):
    return await limiter.acquire([(key, limit)], now=now, window=WINDOW)


async def test_a_key_without_events_is_acquired(limiter):
    assert await hit(limiter, "user:alice", T0) == 0.0


async def test_fewer_events_than_the_limit_do_not_throttle(limiter):
    for i in range(2):
        await hit(limiter, "user:alice", T0 + i)

    assert await hit(limiter, "user:alice", T0 + 2) == 0.0


async def test_the_limit_throttles_until_the_oldest_event_leaves_the_window(limiter):
    for i in range(3):
        await hit(limiter, "user:alice", T0 + i)

    assert await hit(limiter, "user:alice", T0 + 3) == T0 + WINDOW - (T0 + 3)


async def test_an_event_exactly_window_seconds_old_no_longer_counts(limiter):
    for i in range(3):
        await hit(limiter, "user:alice", T0 + i)

    assert await hit(limiter, "user:alice", T0 + WINDOW) == 0.0


async def test_a_refused_attempt_is_not_recorded(limiter, redis):
    for i in range(5):
        await hit(limiter, "user:alice", T0 + i)

    assert await redis.zcard(limiter.redis_key("user:alice")) == 3
    # The oldest of the three (at T0) decides.
    assert await hit(limiter, "user:alice", T0 + 5) == T0 + WINDOW - (T0 + 5)


async def test_events_at_the_same_instant_each_count(limiter):
    for _ in range(3):
        await hit(limiter, "client:203.0.113.7", T0)

    assert await hit(limiter, "client:203.0.113.7", T0) == WINDOW


async def test_several_keys_are_acquired_together_or_not_at_all(limiter, redis):
    for i in range(3):
        await hit(limiter, "user:alice", T0 + i)

    wait = await limiter.acquire([("client:203.0.113.7", 20), ("user:alice", 3)], now=T0 + 3, window=WINDOW)

    assert wait == T0 + WINDOW - (T0 + 3)
    assert await redis.zcard(limiter.redis_key("client:203.0.113.7")) == 0


async def test_the_longest_wait_of_several_keys_is_returned(limiter):
    await hit(limiter, "user:alice", T0, limit=1)
    await hit(limiter, "client:203.0.113.7", T0 + 10, limit=1)

    wait = await limiter.acquire([("user:alice", 1), ("client:203.0.113.7", 1)], now=T0 + 20, window=WINDOW)

    assert wait == T0 + 10 + WINDOW - (T0 + 20)


async def test_release_gives_back_one_event(limiter):
    for _ in range(3):
        await hit(limiter, "user:alice", T0)

    await limiter.release("user:alice", now=T0)

    assert await hit(limiter, "user:alice", T0) == 0.0
    assert await hit(limiter, "user:alice", T0) > 0


async def test_reset_forgets_the_key(limiter):
    for i in range(3):
        await hit(limiter, "user:alice", T0 + i)

    await limiter.reset("user:alice")

    assert await hit(limiter, "user:alice", T0 + 3) == 0.0


async def test_keys_are_counted_separately(limiter):
    for i in range(3):
        await hit(limiter, "user:alice", T0 + i)

    assert await hit(limiter, "user:bob", T0 + 3) == 0.0


async def test_keys_live_under_the_prefix_and_expire_with_their_window(limiter, redis, prefix):
    await hit(limiter, "user:alice", T0)

    assert limiter.redis_key("user:alice") == f"{prefix}rl:user:alice"
    ttl_ms = await redis.pttl(f"{prefix}rl:user:alice")
    assert 0 < ttl_ms <= WINDOW * 1000


async def test_concurrent_acquires_from_two_workers_admit_exactly_the_limit(redis, prefix):
    worker_a = RedisRateLimiter(redis, prefix=prefix)
    worker_b = RedisRateLimiter(Redis.from_url(REDIS_URL), prefix=prefix)
    try:
        waits = await asyncio.gather(
            *(hit(worker, "user:alice", T0 + i / 100, limit=20) for i, worker in enumerate([worker_a, worker_b] * 50))
        )
        assert sum(1 for wait in waits if wait == 0.0) == 20
    finally:
        await worker_b._client.aclose()


async def test_answers_exactly_like_the_memory_reference(limiter):
    # A differential test: one random sequence of acquires, releases and resets on both limiters.
    rng = random.Random(4)
    reference = MemoryRateLimiter()
    now = T0
    for _ in range(300):
        now += rng.choice([0.0, 0.001, 0.37, 1.5, 4.0, 9.99])
        keys = rng.choice(
            [[("user:alice", 4)], [("user:bob", 4), ("client:203.0.113.7", 6)], [("client:203.0.113.7", 6)]]
        )
        action = rng.random()
        if action < 0.05:
            await reference.reset(keys[0][0])
            await limiter.reset(keys[0][0])
        elif action < 0.15:
            await reference.release(keys[0][0], now=now)
            await limiter.release(keys[0][0], now=now)
        expected = await reference.acquire(keys, now=now, window=10.0)
        assert await limiter.acquire(keys, now=now, window=10.0) == expected, (keys, now)


async def test_purge_leaves_forgetting_to_the_key_ttl(limiter, redis):
    await hit(limiter, "user:alice", T0)

    assert await limiter.purge(now=T0 + 10 * WINDOW) == 0

    assert await redis.zcard(limiter.redis_key("user:alice")) == 1  # untouched: its TTL removes it
    assert await redis.pttl(limiter.redis_key("user:alice")) > 0


async def test_purge_sends_nothing_to_redis_so_an_outage_does_not_fail_it():
    client = Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    try:
        assert await RedisRateLimiter(client).purge(now=T0) == 0
    finally:
        await client.aclose()


async def test_a_redis_outage_is_service_unavailable():
    client = Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    limiter = RedisRateLimiter(client)
    try:
        with pytest.raises(ServiceUnavailableError):
            await hit(limiter, "user:alice", T0)
        with pytest.raises(ServiceUnavailableError):
            await limiter.release("user:alice", now=T0)
        with pytest.raises(ServiceUnavailableError):
            await limiter.reset("user:alice")
    finally:
        await client.aclose()


async def test_open_redis_gives_a_working_limiter(redis, prefix):
    handles = await open_redis(REDIS_URL, prefix=prefix, start_feed=False)
    try:
        assert await hit(handles.rate_limiter, "user:alice", T0, limit=1) == 0.0
        assert await hit(handles.rate_limiter, "user:alice", T0, limit=1) == WINDOW
    finally:
        await handles.close()


async def test_open_redis_waits_for_a_pooled_connection_under_a_burst(redis, prefix):
    handles = await open_redis(REDIS_URL, prefix=prefix, start_feed=False, max_connections=4)
    try:
        waits = await asyncio.gather(*(hit(handles.rate_limiter, f"user:u{i}", T0) for i in range(100)))
        assert waits == [0.0] * 100
    finally:
        await handles.close()


async def test_open_redis_on_a_dead_address_is_service_unavailable():
    with pytest.raises(ServiceUnavailableError):
        await open_redis(f"redis://127.0.0.1:{closed_port()}/15", timeout=0.5)
