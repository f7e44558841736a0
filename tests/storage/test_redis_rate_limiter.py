"""``RedisRateLimiter`` against the real Redis on 127.0.0.1:6379 (db 15, a random key prefix
per test): its keys, shared by every worker; a reservation is checked and recorded in one atomic
step. The sliding window every adapter shares is in test_rate_limiter_contract.py.

Without Redis these tests skip, except under ``CI`` where they fail.
"""

import asyncio
import socket

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.storage.redis import RedisRateLimiter, open_redis

pytestmark = pytest.mark.anyio

REDIS_URL = "redis://127.0.0.1:6379/15"
T0 = 1_700_000_000.25  # a wall-clock-like time; keys live `window` real seconds after a hit
WINDOW = 60.0


@pytest.fixture
def limiter(redis, prefix) -> RedisRateLimiter:
    return RedisRateLimiter(redis, prefix=prefix)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def hit(limiter, key, now, limit=3):
    return await limiter.acquire([(key, limit)], now=now, window=WINDOW)


async def test_keys_live_under_the_prefix_and_expire_with_their_window(limiter, redis, prefix):
    await hit(limiter, "user:alice", T0)

    assert limiter.redis_key("user:alice") == f"{prefix}rl:user:alice"
    ttl_ms = await redis.pttl(f"{prefix}rl:user:alice")
    assert 0 < ttl_ms <= WINDOW * 1000


async def test_concurrent_acquires_from_two_workers_admit_exactly_the_limit(redis, prefix):
    worker_a = RedisRateLimiter(redis, prefix=prefix)
    client_b = Redis.from_url(REDIS_URL)
    worker_b = RedisRateLimiter(client_b, prefix=prefix)
    try:
        waits = await asyncio.gather(
            *(hit(worker, "user:alice", T0 + i / 100, limit=20) for i, worker in enumerate([worker_a, worker_b] * 50))
        )
        assert sum(1 for wait in waits if wait == 0.0) == 20
    finally:
        await client_b.aclose()


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
