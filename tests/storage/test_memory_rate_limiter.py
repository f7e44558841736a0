"""``MemoryRateLimiter``: the reference sliding window (its behaviour is pinned against Redis in
test_redis_rate_limiter.py) and its memory bound: least recently used keys are forgotten."""

import pytest

from jwtkit.storage.memory import MemoryRateLimiter

pytestmark = pytest.mark.anyio

T0, WINDOW = 1_700_000_000.0, 60.0


@pytest.fixture
def anyio_backend():
    return "asyncio"


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
        assert len(limiter._events) <= 100


def test_a_bound_below_one_is_a_value_error():
    with pytest.raises(ValueError, match="max_keys"):
        MemoryRateLimiter(max_keys=0)
