"""The session reads' tracked cache (``RespGet`` with ``TrackedReads``): against the real Redis (db 15,
a fresh key prefix per test) for what Redis's invalidations do, and against a scripted RESP3 fake
for what a real server will not do on demand (a flush push, a reply racing an invalidation)."""

import asyncio
import select
import time

import pytest
from redis.asyncio import Redis
from test_redis_resp import FakeRedis  # (rootdir-relative: tests/storage has no __init__)

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import SessionRecord
from jwtkit.storage.redis import RedisSessionStore, open_redis
from jwtkit.storage.redis import resp as resp_module
from jwtkit.storage.redis.resp import RespGet
from jwtkit.storage.redis.tracking import TrackedReads

pytestmark = pytest.mark.anyio

HELLO_REPLY = b"%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n"


@pytest.fixture
def gets(monkeypatch):
    """Every GET the lean client sends, as the list of keys."""
    sent: list[bytes] = []
    original = resp_module._Connection.send

    def counting(self, *args, tracked=None):
        if args[0] == b"GET":
            sent.append(args[1])
        return original(self, *args, tracked=tracked)

    monkeypatch.setattr(resp_module._Connection, "send", counting)
    return sent


def make_store(redis, prefix, redis_url, **cache_options):
    reader = RespGet.from_url(redis_url, cache=TrackedReads(**cache_options))
    assert reader is not None
    return RedisSessionStore(redis, prefix=prefix, reader=reader), reader


@pytest.fixture
async def cached(redis, prefix, redis_url):
    store, reader = make_store(redis, prefix, redis_url)
    yield store, reader
    await reader.close()


def record(key_hash="ab" * 32, *, ttl=60.0, user_id=1):
    return SessionRecord(key_hash=key_hash, data={"user_id": user_id, "username": "alice"},
                         expires_at=time.time() + ttl)


async def eventually(condition, *, within=5.0):
    """Poll ``condition`` until it holds (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.005)


def cached_keys(reader):
    return set(reader.cache._entries)


async def test_a_session_read_again_is_served_without_a_get(cached, gets):
    store, _ = cached
    stored = record()
    await store.add_session(stored)

    assert await store.get_session(stored.key_hash) == stored
    assert await store.get_session(stored.key_hash) == stored
    assert await store.get_session(stored.key_hash) == stored

    assert len(gets) == 1


async def test_a_missing_session_is_not_remembered(cached, gets):
    store, reader = cached

    assert await store.get_session("cd" * 32) is None
    assert await store.get_session("cd" * 32) is None

    assert len(gets) == 2
    assert len(reader.cache) == 0


async def test_a_session_another_client_deleted_is_not_served_once_its_invalidation_arrived(cached, redis):
    store, reader = cached
    stored = record()
    await store.add_session(stored)
    assert await store.get_session(stored.key_hash) == stored

    await redis.delete(store.redis_key(stored.key_hash))
    await eventually(lambda: not cached_keys(reader))

    assert await store.get_session(stored.key_hash) is None


async def test_a_logout_on_another_server_reaches_this_servers_cache(cached, redis, prefix, redis_url):
    store, reader = cached
    other, other_reader = make_store(redis, prefix, redis_url)
    try:
        stored = record()
        await store.add_session(stored)
        assert await store.get_session(stored.key_hash) == stored

        await other.delete_session(stored.key_hash)
        await eventually(lambda: not cached_keys(reader))

        assert await store.get_session(stored.key_hash) is None
    finally:
        await other_reader.close()


async def test_a_session_changed_by_another_client_is_read_anew(cached, redis):
    store, reader = cached
    await store.add_session(record(user_id=1))
    assert (await store.get_session("ab" * 32)).data["user_id"] == 1

    await redis.set(store.redis_key("ab" * 32), '{"data": {"user_id": 2}, "expires_at": %f}' % (time.time() + 60))
    await eventually(lambda: not cached_keys(reader))

    assert (await store.get_session("ab" * 32)).data["user_id"] == 2


@pytest.mark.parametrize("write", ["delete_session", "delete_user_sessions", "purge_sessions"])
async def test_the_stores_own_deletes_drop_the_cached_sessions_at_once(cached, write):
    store, reader = cached
    stored = record(ttl=1.0)
    await store.add_session(stored)
    assert await store.get_session(stored.key_hash) == stored
    key = store.redis_key(stored.key_hash).encode()
    assert key in cached_keys(reader)

    if write == "delete_session":
        await store.delete_session(stored.key_hash)
    elif write == "delete_user_sessions":
        assert await store.delete_user_sessions(1) == 1
    else:
        assert await store.purge_sessions(now=stored.expires_at) == 1

    assert key not in cached_keys(reader)
    assert await store.get_session(stored.key_hash) is None


async def test_a_write_that_failed_drops_the_cached_session_too(redis, prefix, redis_url, redis_proxy):
    reader = RespGet.from_url(redis_url, cache=TrackedReads())
    broken = Redis.from_url(redis_proxy.url, socket_connect_timeout=1, socket_timeout=1)
    store = RedisSessionStore(broken, prefix=prefix, reader=reader)
    try:
        await redis.set(store.redis_key("ab" * 32), '{"data": {"user_id": 1}, "expires_at": %f}' % (time.time() + 60))
        assert await store.get_session("ab" * 32) is not None
        await redis_proxy.stop()  # the store's writes now fail; its reads still work

        with pytest.raises(ServiceUnavailableError):
            await store.delete_session("ab" * 32)

        assert len(reader.cache) == 0  # the outcome is unknown: not served from memory
    finally:
        await broken.aclose()
        await reader.close()


async def test_a_session_expired_by_redis_leaves_the_cache(cached):
    store, reader = cached
    stored = record(ttl=0.3)
    await store.add_session(stored)
    assert await store.get_session(stored.key_hash) == stored

    await eventually(lambda: not cached_keys(reader))  # Redis's expiry sends the invalidation

    assert await store.get_session(stored.key_hash) is None


async def test_a_cached_session_past_its_expiry_by_this_clock_is_read_from_redis_again(cached, gets, monkeypatch):
    store, reader = cached
    stored = record(ttl=60)
    await store.add_session(stored)
    assert await store.get_session(stored.key_hash) == stored

    import jwtkit.storage.redis.sessions as sessions_module
    monkeypatch.setattr(sessions_module.time, "time", lambda: stored.expires_at + 1)  # this clock is ahead
    await store.get_session(stored.key_hash)

    assert len(gets) == 2  # not answered from memory
    assert len(reader.cache) == 0


async def test_a_killed_connection_empties_the_cache_and_tracking_comes_back(cached, redis, gets):
    store, reader = cached
    stored = record()
    await store.add_session(stored)
    assert await store.get_session(stored.key_hash) == stored
    host, port = reader._connection._transport.get_extra_info("sockname")[:2]

    assert await redis.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}", "SKIPME", "yes") == 1
    await eventually(lambda: not reader.cache.tracking)

    assert len(reader.cache) == 0
    assert await store.get_session(stored.key_hash) == stored  # read from Redis, on a new connection
    assert reader.cache.tracking
    assert await store.get_session(stored.key_hash) == stored  # and cached again: no third GET
    assert len(gets) == 2


async def test_the_oldest_session_is_evicted_past_the_bound(redis, prefix, redis_url, gets):
    store, reader = make_store(redis, prefix, redis_url, max_entries=2)
    try:
        for key_hash in ("01" * 32, "02" * 32, "03" * 32):
            await store.add_session(record(key_hash))
            await store.get_session(key_hash)

        assert cached_keys(reader) == {store.redis_key(h).encode() for h in ("02" * 32, "03" * 32)}
    finally:
        await reader.close()


async def test_concurrent_reads_of_one_session_send_one_get(cached, gets):
    store, _ = cached
    stored = record()
    await store.add_session(stored)
    await store.get_session("cd" * 32)  # connected, tracking on
    gets.clear()

    results = await asyncio.gather(*(store.get_session(stored.key_hash) for _ in range(20)))

    assert results == [stored] * 20
    assert len(gets) == 1


async def test_a_connection_not_proven_within_max_lag_serves_nothing_from_the_cache(redis, prefix, redis_url, gets):
    store, reader = make_store(redis, prefix, redis_url, max_lag=0.05)
    try:
        await store.add_session(record())
        await store.get_session("ab" * 32)
        await store.get_session("ab" * 32)
        assert len(gets) == 1
        loop = asyncio.get_running_loop()
        await eventually(lambda: loop.time() - reader.cache.synced_at > 0.05)

        await store.get_session("ab" * 32)

        assert len(gets) == 2
    finally:
        await reader.close()


# ---- a scripted RESP3 server ------------------------------------------------------------------

def tracking_server(on_get):
    """A fake answering the handshake (HELLO 3, CLIENT TRACKING ON) and each GET with ``on_get``."""

    async def script(number, reader, writer):
        while True:
            args = await fake.command(reader)
            if args[0] == b"HELLO":
                writer.write(HELLO_REPLY)
            elif args[0] == b"GET":
                await on_get(number, args[1], writer)
            else:
                writer.write(b"+OK\r\n")

    fake = FakeRedis(script)
    return fake


async def resume_once_unread(transport, sent):
    """Once the fake has ``sent`` its bytes, check they wait unread in the paused socket, then let the loop
    read them (at its next poll, after the caller's next call has begun)."""
    await sent.wait()
    assert select.select([transport.get_extra_info("socket").fileno()], [], [], 5)[0]
    transport.resume_reading()


async def test_an_invalidation_right_behind_the_reply_leaves_no_stale_entry():
    async def on_get(_, key, writer):  # the reply, then (a write right after the read) its invalidation
        writer.write(b"$2\r\nv1\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$%d\r\n%s\r\n" % (len(key), key))

    async with tracking_server(on_get) as fake:
        client = RespGet("127.0.0.1", fake.port, cache=TrackedReads())
        assert await client.get_cached(b"k") == b"v1"

        assert len(client.cache) == 0
        await client.close()


async def test_a_reply_to_a_get_sent_before_the_owners_own_write_is_not_kept():
    release = asyncio.Event()

    async def on_get(_, key, writer):
        await release.wait()
        writer.write(b"$3\r\nold\r\n")

    async with tracking_server(on_get) as fake:
        client = RespGet("127.0.0.1", fake.port, cache=TrackedReads())
        read = asyncio.ensure_future(client.get_cached(b"k"))
        await eventually(lambda: len(fake.commands) == 3)  # HELLO, CLIENT TRACKING, then the GET
        client.forget([b"k"])  # e.g. delete_session finished meanwhile
        release.set()

        assert await read == b"old"  # (a read that began before the write)
        assert len(client.cache) == 0
        await client.close()


async def test_a_flush_invalidation_empties_the_cache():
    flushed = asyncio.Event()

    async def on_get(_, key, writer):
        writer.write(b"$1\r\nv\r\n")
        if key == b"flush":
            writer.write(b">2\r\n$10\r\ninvalidate\r\n_\r\n")
            flushed.set()

    async with tracking_server(on_get) as fake:
        client = RespGet("127.0.0.1", fake.port, cache=TrackedReads())
        for key in (b"a", b"b", b"flush"):
            await client.get_cached(key)
        await eventually(lambda: flushed.is_set() and len(client.cache) == 0)

        assert client.cache.tracking  # tracking goes on; only the copies went
        await client.close()


async def test_an_invalidation_waiting_unread_in_the_socket_is_honoured_before_a_hit():
    written = asyncio.Event()

    async def on_get(_, key, writer):
        writer.write(b"$2\r\nv%d\r\n" % len(fake.commands))
        if len(fake.commands) == 3:  # after the first GET's reply: a write by someone else
            await writer.drain()
            await asyncio.sleep(0.01)
            writer.write(b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n")
            await writer.drain()
            written.set()

    async with tracking_server(on_get) as fake:
        client = RespGet("127.0.0.1", fake.port, cache=TrackedReads())
        assert await client.get_cached(b"k") == b"v3"
        transport = client._connection._transport
        transport.pause_reading()  # the event loop does not parse what arrives next
        await resume_once_unread(transport, written)  # the push is there, read after the call below begins

        assert await client.get_cached(b"k") == b"v4"  # not the cached v3
        await client.close()


async def test_a_hit_that_finds_another_reply_unread_waits_for_it_instead_of_sending_a_get():
    # Under load a reply is nearly always on its way; a GET per read that finds one would keep
    # another in flight for the next read, and every read would be a round trip again.
    answered = asyncio.Event()

    async def on_get(_, key, writer):
        writer.write(b"$2\r\nv%d\r\n" % len(fake.commands))
        await writer.drain()
        answered.set()

    async with tracking_server(on_get) as fake:
        client = RespGet("127.0.0.1", fake.port, cache=TrackedReads())
        assert await client.get_cached(b"a") == b"v3"
        transport = client._connection._transport
        transport.pause_reading()  # the reply to the next GET stays unread in the socket
        answered.clear()
        other = asyncio.ensure_future(client.get_cached(b"b"))
        await resume_once_unread(transport, answered)

        assert await client.get_cached(b"a") == b"v3"  # from the cache, once the reply was read
        assert await other == b"v4"
        assert [args[0] for args in fake.commands].count(b"GET") == 2
        await client.close()


async def test_a_server_refusing_resp3_serves_reads_without_a_cache():
    async def script(_, reader, writer):
        while True:
            args = await fake.command(reader)
            writer.write(b"-ERR unknown command 'HELLO'\r\n" if args[0] == b"HELLO" else b"$1\r\nv\r\n")

    async with FakeRedis(script) as fake:
        client = RespGet("127.0.0.1", fake.port, cache=TrackedReads())
        assert [await client.get_cached(b"k"), await client.get_cached(b"k")] == [b"v", b"v"]

        assert [args[0] for args in fake.commands] == [b"HELLO", b"GET", b"GET"]
        assert not client.cache.tracking
        await client.close()


async def test_open_redis_gives_the_session_store_a_tracked_cache_by_default(redis_url, prefix):
    handles = await open_redis(redis_url, prefix=prefix, start_feed=False)
    try:
        assert handles.sessions._reader.cache.max_entries == 10_000
    finally:
        await handles.close()


async def test_open_redis_without_a_session_cache_reads_through_plain_gets(redis_url, prefix):
    handles = await open_redis(redis_url, prefix=prefix, start_feed=False, session_cache_entries=0)
    try:
        assert handles.sessions._reader.cache is None
    finally:
        await handles.close()
