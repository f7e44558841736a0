"""The ``RateLimiter`` port's contract, on every adapter: the in-memory reference, Redis (db 15, a
fresh key prefix) and the database one on SQLite and PostgreSQL (a fresh schema). A sliding window:
an event counts while it is newer than ``now - window``; an acquire over several keys records on all
of them or on none; release gives back one event, reset forgets a key.

What only one adapter has (its storage layout, its cross-process atomicity, its failures) is tested
in that adapter's own file. Without Redis or PostgreSQL their cases skip, except under ``CI``.
"""

import random

import pytest

from jwtkit.storage.memory import MemoryRateLimiter
from jwtkit.storage.redis import RedisRateLimiter
from jwtkit.storage.sql import open_sql_stores

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.25  # a wall-clock-like time; Redis keys live `window` real seconds after a hit
WINDOW = 60.0


@pytest.fixture(params=["memory", "redis", "sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def services(backend, database_for, request):
    """What the backend needs, resolved here (a sync fixture: the Redis fixtures are async)."""
    if backend == "redis":
        return request.getfixturevalue("redis"), request.getfixturevalue("prefix")
    return database_for(backend)


@pytest.fixture
async def limiter(backend, services):
    if backend == "memory":
        yield MemoryRateLimiter()
    elif backend == "redis":
        client, prefix = services
        yield RedisRateLimiter(client, prefix=prefix)
    else:
        url, schema = services
        stores = await open_sql_stores(url, schema=schema, shared_rate_limiter=True)
        yield stores.rate_limiter
        await stores.close()


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


async def test_a_refused_attempt_is_not_recorded(limiter):
    for i in range(5):
        await hit(limiter, "user:alice", T0 + i)

    # T0 has left the window: T0+1 and T0+2 count, 2 of 3. Had the refused attempts at T0+3 and
    # T0+4 been recorded, 4 would count and this one would be refused.
    assert await hit(limiter, "user:alice", T0 + WINDOW + 0.5) == 0.0


async def test_events_at_the_same_instant_each_count(limiter):
    for _ in range(3):
        await hit(limiter, "client:203.0.113.7", T0)

    assert await hit(limiter, "client:203.0.113.7", T0) == WINDOW


async def test_several_keys_are_acquired_together_or_not_at_all(limiter):
    for i in range(3):
        await hit(limiter, "user:alice", T0 + i)

    wait = await limiter.acquire([("client:203.0.113.7", 1), ("user:alice", 3)], now=T0 + 3, window=WINDOW)

    assert wait == T0 + WINDOW - (T0 + 3)
    assert await hit(limiter, "client:203.0.113.7", T0 + 4, limit=1) == 0.0  # nothing was recorded on it


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


async def test_a_limit_below_one_counts_as_one(limiter):
    assert await hit(limiter, "user:alice", T0, limit=0) == 0.0
    assert await hit(limiter, "user:alice", T0, limit=0) == WINDOW


async def test_a_key_asked_later_with_a_larger_limit_keeps_every_event(limiter):
    await hit(limiter, "user:alice", T0, limit=1)

    for i in range(1, 3):
        assert await hit(limiter, "user:alice", T0 + i, limit=3) == 0.0

    assert await hit(limiter, "user:alice", T0 + 3, limit=3) == WINDOW - 3  # all three still count


@pytest.mark.parametrize("backend", ["redis", "sqlite", "postgresql"])
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


# ---- acquire_windows: a window per key (the login throttle's growing delays)


async def test_each_key_is_judged_by_its_own_window(limiter):
    limits = [("user:alice", 1, 10.0), ("user:1:alice", 1, 100.0)]
    assert await limiter.acquire_windows(limits, now=T0) == 0.0

    # 20 s on: the 10 s key is free again, the 100 s key waits 80 s more, and nothing is recorded
    assert await limiter.acquire_windows(limits, now=T0 + 20) == 80.0
    assert await limiter.acquire_windows([("user:alice", 1, 10.0)], now=T0 + 21) == 0.0


async def test_windows_are_acquired_together_or_not_at_all(limiter):
    await limiter.acquire_windows([("user:1:alice", 2, 100.0)], now=T0)
    await limiter.acquire_windows([("user:1:alice", 2, 100.0)], now=T0 + 1)

    wait = await limiter.acquire_windows([("client:203.0.113.7", 1, 10.0), ("user:1:alice", 2, 100.0)], now=T0 + 5)

    assert wait == T0 + 100.0 - (T0 + 5)
    assert await limiter.acquire_windows([("client:203.0.113.7", 1, 10.0)], now=T0 + 6) == 0.0


async def test_acquire_is_acquire_windows_with_one_window_for_every_key(limiter):
    await limiter.acquire([("user:alice", 1), ("client:203.0.113.7", 1)], now=T0, window=WINDOW)

    assert await limiter.acquire_windows([("user:alice", 1, WINDOW)], now=T0 + 1) == WINDOW - 1
    assert await limiter.acquire_windows([("client:203.0.113.7", 1, WINDOW)], now=T0 + 1) == WINDOW - 1


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
async def test_purge_keeps_an_event_until_its_own_window_has_passed(limiter):
    await limiter.acquire_windows([("user:alice", 5, 10.0), ("user:1:alice", 5, 100.0)], now=T0)

    assert await limiter.purge(now=T0 + 10) == 1
    assert await limiter.purge(now=T0 + 100) == 1


@pytest.mark.parametrize("backend", ["redis", "sqlite", "postgresql"])
async def test_windows_answer_exactly_like_the_memory_reference(limiter):
    rng = random.Random(5)
    reference = MemoryRateLimiter()
    now = T0
    for _ in range(200):
        now += rng.choice([0.0, 0.001, 0.37, 1.5, 4.0, 9.99, 30.0])
        limits = rng.choice([
            [("user:alice", 3, 10.0), ("user:1:alice", 6, 60.0)],
            [("user:1:alice", 6, 60.0)],
            [("client:203.0.113.7", 4, 10.0), ("user:alice", 3, 10.0)],
        ])
        if rng.random() < 0.1:
            await reference.release(limits[0][0], now=now)
            await limiter.release(limits[0][0], now=now)
        expected = await reference.acquire_windows(limits, now=now)
        assert await limiter.acquire_windows(limits, now=now) == expected, (limits, now)
