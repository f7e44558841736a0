"""``MemoryRateLimiter``: the reference sliding window (the behaviour every adapter shares is in
test_rate_limiter_contract.py), its memory bound (least recently used keys are forgotten) and its
purge (keys with no live event are)."""

import pytest

from jwtkit.storage.memory import MemoryRateLimiter

pytestmark = pytest.mark.anyio

T0, WINDOW = 1_700_000_000.0, 60.0


async def hit(limiter, key, now=T0, limit=1):
    return await limiter.acquire([(key, limit)], now=now, window=WINDOW)


async def test_past_max_keys_the_least_recently_used_key_is_forgotten():
    limiter = MemoryRateLimiter(max_keys=3)
    for key in ("a", "b", "c", "d"):
        await hit(limiter, key)

    assert await hit(limiter, "a") == 0.0  # forgotten: its count restarted
    assert await hit(limiter, "d") == WINDOW  # kept


async def test_a_key_used_again_is_kept_over_older_ones():
    limiter = MemoryRateLimiter(max_keys=3)
    for key in ("a", "b", "c"):
        await hit(limiter, key)
    assert await hit(limiter, "a") == WINDOW  # refused, but used: now the most recent

    await hit(limiter, "d")

    assert await hit(limiter, "a") == WINDOW
    assert await hit(limiter, "b") == 0.0  # the least recently used went


async def test_the_number_of_keys_never_exceeds_the_bound():
    limiter = MemoryRateLimiter(max_keys=100)
    for i in range(1000):
        await hit(limiter, f"user:spray{i}")

    assert await limiter.purge(now=T0 + WINDOW) == 100  # one event for each of the 100 keys kept


def test_a_bound_below_one_is_a_value_error():
    with pytest.raises(ValueError, match="max_keys"):
        MemoryRateLimiter(max_keys=0)


async def test_purge_forgets_keys_whose_events_all_left_their_window_and_counts_the_events():
    limiter = MemoryRateLimiter()
    await limiter.acquire([("user:alice", 3), ("client:203.0.113.7", 20)], now=T0, window=WINDOW)
    await hit(limiter, "user:alice", now=T0 + 1, limit=3)
    await hit(limiter, "user:bob", now=T0 + 10)

    assert await limiter.purge(now=T0 + 1 + WINDOW) == 3  # alice's two and the client's one

    assert await limiter.purge(now=T0 + 10 + WINDOW) == 1  # bob's, all that was left


async def test_purge_keeps_a_key_with_a_live_event_and_its_count():
    limiter = MemoryRateLimiter()
    await hit(limiter, "user:alice", now=T0, limit=2)
    await hit(limiter, "user:alice", now=T0 + 30, limit=2)

    assert await limiter.purge(now=T0 + WINDOW) == 0  # the event at T0 left; the one at T0 + 30 did not

    assert await hit(limiter, "user:alice", now=T0 + WINDOW, limit=1) == 30.0


async def test_purge_goes_by_each_events_own_window():
    limiter = MemoryRateLimiter()
    await limiter.acquire([("user:alice", 1)], now=T0, window=10.0)
    await limiter.acquire([("user:bob", 1)], now=T0, window=100.0)

    assert await limiter.purge(now=T0 + 50) == 1

    assert await limiter.purge(now=T0 + 100) == 1  # bob's, all that was left


async def test_purge_forgets_a_key_left_without_events_by_release():
    limiter = MemoryRateLimiter()
    await hit(limiter, "user:alice")
    await limiter.release("user:alice", now=T0)

    assert await limiter.purge(now=T0) == 0

    assert await hit(limiter, "user:alice", now=T0) == 0.0


