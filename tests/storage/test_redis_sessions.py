"""``RedisSessionStore`` against the real Redis (db 15, a fresh key prefix per test): the session
port's behaviour, the key's TTL at the session's expiry, and Redis going away (through the test's
own proxy) as ``ServiceUnavailableError``; ``open_stores`` with Redis keeps sessions there only."""

import asyncio
import time

import pytest
from redis.asyncio import Redis

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import SessionRecord
from jwtkit.storage.redis import RedisSessionStore
from jwtkit.storage.redis.resp import RespGet
from jwtkit.wiring import open_stores

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["redis-py", "resp"])
async def sessions(request, redis, prefix, redis_url):
    """The store, reading through redis-py, or through the lean ``RespGet`` as ``open_redis`` sets it up."""
    reader = RespGet.from_url(redis_url) if request.param == "resp" else None
    yield RedisSessionStore(redis, prefix=prefix, reader=reader)
    if reader is not None:
        await reader.close()


def record(key_hash="ab" * 32, *, ttl=60.0, data=None):
    return SessionRecord(key_hash=key_hash, data={"user_id": 1, "username": "alice"} if data is None else data,
                         expires_at=time.time() + ttl)


async def test_a_session_round_trips_and_is_deleted(sessions):
    stored = record(data={"user_id": 7, "username": "Ålice", "k": [1, "v"]})
    await sessions.add_session(stored)
    assert await sessions.get_session(stored.key_hash) == stored
    await sessions.delete_session(stored.key_hash)
    assert await sessions.get_session(stored.key_hash) is None


async def test_unknown_sessions_read_as_none_and_delete_without_error(sessions):
    assert await sessions.get_session("cd" * 32) is None
    await sessions.delete_session("cd" * 32)


async def test_the_key_is_the_hash_under_the_prefix_and_expires_with_the_session(sessions, redis, prefix):
    stored = record(ttl=60.0)
    await sessions.add_session(stored)
    assert sorted([key async for key in redis.scan_iter(match=prefix + "*")]) == [
        f"{prefix}session:{'ab' * 32}".encode(), f"{prefix}sessions:expiry".encode(),
        f"{prefix}sessions:user:1".encode()]
    assert 50_000 < await redis.pttl(sessions.redis_key(stored.key_hash)) <= 60_000


async def test_a_session_past_its_expiry_is_not_kept(sessions):
    await sessions.add_session(record(ttl=-1.0))
    assert await sessions.get_session("ab" * 32) is None


async def test_purging_deletes_the_sessions_expired_by_the_given_time_only(sessions, redis, prefix):
    expiring, live = record("01" * 32, ttl=60), record("02" * 32, ttl=600)
    for stored in (expiring, live):
        await sessions.add_session(stored)
    await sessions.add_session(record("03" * 32, ttl=-1.0))  # already gone: Redis expired it

    assert await sessions.purge_sessions(now=expiring.expires_at) == 1
    assert await sessions.get_session("01" * 32) is None
    assert await sessions.get_session("02" * 32) == live
    assert await redis.zrange(f"{prefix}sessions:expiry", 0, -1) == [b"02" * 32]  # the gone one forgotten too


@pytest.mark.parametrize("lean_reads", [False, True], ids=["redis-py", "resp"])
async def test_redis_gone_away_is_service_unavailable_and_sessions_survive_its_return(redis_proxy, prefix,
                                                                                      lean_reads):
    client = Redis.from_url(redis_proxy.url, socket_connect_timeout=1, socket_timeout=1)
    reader = RespGet.from_url(redis_proxy.url, timeout=1) if lean_reads else None
    sessions = RedisSessionStore(client, prefix=prefix, reader=reader)
    try:
        stored = record()
        await sessions.add_session(stored)
        await redis_proxy.stop()
        for call in (sessions.get_session(stored.key_hash), sessions.add_session(record("ef" * 32)),
                     sessions.delete_session(stored.key_hash)):
            with pytest.raises(ServiceUnavailableError):
                await asyncio.wait_for(call, 30)  # a hang guard only
        await redis_proxy.start()
        assert await sessions.get_session(stored.key_hash) == stored
    finally:
        if reader is not None:
            await reader.close()
        await client.aclose()


async def test_with_redis_sessions_live_in_redis_only(postgres_url, pg_schema, redis_url, redis_prefix, redis):
    stores = await open_stores(postgres_url, schema=pg_schema, redis_url=redis_url, redis_prefix=redis_prefix)
    try:
        assert isinstance(stores.sessions, RedisSessionStore)
        await stores.sessions.add_session(record())
        assert await redis.exists(f"{redis_prefix}session:{'ab' * 32}") == 1
        assert await stores.users.get_session("ab" * 32) is None  # nothing in the database's table
    finally:
        await stores.close()


async def test_deleting_a_users_sessions_ends_all_of_them_and_no_one_elses(sessions):
    await sessions.add_session(record("a1" * 32, data={"user_id": 1, "username": "alice"}))
    await sessions.add_session(record("a2" * 32, data={"user_id": 1, "username": "alice"}))
    await sessions.add_session(record("b1" * 32, data={"user_id": 2, "username": "bob"}))

    assert await sessions.delete_user_sessions(1) == 2

    assert await sessions.get_session("a1" * 32) is None
    assert await sessions.get_session("a2" * 32) is None
    assert await sessions.get_session("b1" * 32) is not None
    assert await sessions.delete_user_sessions(1) == 0


async def test_a_users_session_index_expires_with_their_last_session(sessions, redis, prefix):
    await sessions.add_session(record("a1" * 32, ttl=60.0))
    await sessions.add_session(record("a2" * 32, ttl=600.0))
    await sessions.add_session(record("a3" * 32, ttl=30.0))

    ttl = await redis.pttl(f"{prefix}sessions:user:1")

    assert 590_000 < ttl <= 600_000
