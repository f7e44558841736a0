"""The Redis session store decodes each value read from the tracked cache once: every read still
gets its own record and ``data`` (a caller's mutation never reaches the next read), and what it
remembers is bounded by the cache's size. Against the real Redis, as test_redis_session_cache."""

import time

import pytest
from test_redis_session_cache import make_store  # (rootdir-relative: tests/storage has no __init__)

from jwtkit.auth.models import SessionRecord

pytestmark = pytest.mark.anyio


@pytest.fixture
async def small(redis, prefix, redis_url):
    store, reader = make_store(redis, prefix, redis_url, max_entries=2)
    yield store
    await reader.close()


def session(n: int, **data: object) -> SessionRecord:
    return SessionRecord(key_hash=f"{n:02d}" * 32, data={"user_id": n, "username": f"user{n}", **data},
                         expires_at=time.time() + 60)


async def test_a_session_read_again_is_the_same_record(small):
    stored = session(1)
    await small.add_session(stored)
    assert [await small.get_session(stored.key_hash) for _ in range(3)] == [stored] * 3


async def test_mutating_a_read_sessions_data_does_not_change_the_next_read(small):
    stored = session(1)
    await small.add_session(stored)
    (await small.get_session(stored.key_hash)).data["username"] = "mallory"
    (await small.get_session(stored.key_hash)).data["username"] = "mallory"
    assert await small.get_session(stored.key_hash) == stored


async def test_a_session_with_nested_data_is_read_whole_every_time(small):
    stored = session(1, roles=["admin"])
    await small.add_session(stored)
    (await small.get_session(stored.key_hash)).data["roles"].append("root")
    assert await small.get_session(stored.key_hash) == stored


async def test_the_remembered_parses_are_bounded_by_the_cache_size(small):
    for n in range(1, 6):
        await small.add_session(session(n))
        for _ in range(2):
            assert await small.get_session(session(n).key_hash) is not None
    assert len(small._parsed) <= 2
