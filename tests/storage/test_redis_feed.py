"""``RedisRevocationFeed`` against the real Redis on 127.0.0.1:6379 (db 15, a random prefix per
test): two feed instances play two workers. A denial or key rotation published by one reaches
the other's listeners; denials are kept in Redis until they expire; when Redis goes away the
feed reports stale, reconnects, and asks its listeners to resynchronise from the database.

Without Redis these tests skip, except under ``CI`` where they fail.
"""

import asyncio
import secrets
import socket
import statistics
import time

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import Denial
from jwtkit.storage.redis import RedisRevocationFeed, open_redis

pytestmark = pytest.mark.anyio

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 15
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
FAST = {"ping_interval": 0.05, "backoff_initial": 0.02, "backoff_max": 0.2}


class Recorder:
    """A feed listener that remembers what it was told, and when."""

    def __init__(self) -> None:
        self.denials: list[Denial] = []
        self.arrived: dict[str, float] = {}
        self.keys_changed = 0
        self.resyncs = 0

    def on_denials(self, denials):
        now = time.perf_counter()
        for denial in denials:
            self.denials.append(denial)
            self.arrived[denial.value] = now

    def on_keys_changed(self):
        self.keys_changed += 1

    async def on_resync(self):
        self.resyncs += 1


class Workers:
    """Starts feeds ("workers"), each on its own client, and closes them all at the end."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._clients: list[Redis] = []
        self._feeds: list[RedisRevocationFeed] = []

    def client(self, *, host: str = REDIS_HOST, port: int = REDIS_PORT, name: str | None = None) -> Redis:
        client = Redis(host=host, port=port, db=REDIS_DB, client_name=name, socket_connect_timeout=0.5,
                       socket_timeout=2, retry=Retry(NoBackoff(), 1))
        self._clients.append(client)
        return client

    async def feed(self, client: Redis | None = None, *, start: bool = True, **options) -> RedisRevocationFeed:
        feed = RedisRevocationFeed(client or self.client(), prefix=self.prefix, **options)
        self._feeds.append(feed)
        if start:
            await feed.start(timeout=5)
        return feed

    async def close(self) -> None:
        for feed in self._feeds:
            await feed.close()
        for client in self._clients:
            await client.aclose()


@pytest.fixture
async def workers(prefix):
    workers = Workers(prefix)
    yield workers
    await workers.close()


async def eventually(condition, *, within: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(0.005)


def denial(value: str, *, ttl: float = 300.0) -> Denial:
    return Denial(kind="jti", value=value, expires_at=time.time() + ttl)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- delivery between workers ------------------------------------------------------------------


async def test_a_denial_published_by_one_worker_reaches_the_other(workers):
    worker_a, worker_b = await workers.feed(), await workers.feed()
    heard_by_b = Recorder()
    worker_b.subscribe(heard_by_b)
    sent = [Denial(kind="jti", value="j-1", expires_at=1_900_000_000.5),
            Denial(kind="family", value="f-1", expires_at=1_900_000_100.0)]

    await worker_a.publish_denials(sent)

    await eventually(lambda: len(heard_by_b.denials) == 2, what="delivery to worker B")
    assert heard_by_b.denials == sent


async def test_a_key_rotation_reaches_the_other_worker(workers):
    worker_a, worker_b = await workers.feed(), await workers.feed()
    heard_by_b = Recorder()
    worker_b.subscribe(heard_by_b)

    await worker_a.publish_keys_changed()

    await eventually(lambda: heard_by_b.keys_changed == 1, what="key rotation at worker B")


async def test_the_publishing_worker_tells_its_own_listeners_once(workers):
    worker_a, worker_b = await workers.feed(), await workers.feed()
    heard_by_a, heard_by_b = Recorder(), Recorder()
    worker_a.subscribe(heard_by_a)
    worker_b.subscribe(heard_by_b)

    await worker_a.publish_denials([denial("j-1")])
    await worker_a.publish_keys_changed()
    assert [d.value for d in heard_by_a.denials] == ["j-1"]  # at once, before Redis echoes it
    await eventually(lambda: heard_by_b.keys_changed == 1, what="delivery to worker B")
    await worker_a.publish_keys_changed()  # A's echoes of the earlier messages have come back by now
    await eventually(lambda: heard_by_b.keys_changed == 2, what="second delivery to worker B")

    assert [d.value for d in heard_by_a.denials] == ["j-1"]
    assert heard_by_a.keys_changed == 2


async def test_an_unsubscribed_listener_hears_nothing_more(workers):
    worker_a, worker_b = await workers.feed(), await workers.feed()
    gone, staying = Recorder(), Recorder()
    unsubscribe = worker_b.subscribe(gone)
    worker_b.subscribe(staying)

    unsubscribe()
    await worker_a.publish_denials([denial("j-1")])

    await eventually(lambda: len(staying.denials) == 1, what="delivery to the staying listener")
    assert gone.denials == []


async def test_every_one_of_200_denials_arrives_once_and_in_order(workers):
    worker_a, worker_b = await workers.feed(), await workers.feed()
    heard_by_b = Recorder()
    worker_b.subscribe(heard_by_b)
    sent_at: dict[str, float] = {}

    for i in range(200):
        sent_at[f"j-{i}"] = time.perf_counter()
        await worker_a.publish_denials([denial(f"j-{i}")])

    await eventually(lambda: len(heard_by_b.denials) >= 200, what="200 deliveries")
    assert [d.value for d in heard_by_b.denials] == [f"j-{i}" for i in range(200)]
    delays_ms = sorted((heard_by_b.arrived[value] - sent) * 1000 for value, sent in sent_at.items())
    print(f"\nrevocation propagation over Redis pub/sub, 200 messages: p50 {statistics.median(delays_ms):.2f} ms, "
          f"p99 {delays_ms[197]:.2f} ms, max {delays_ms[-1]:.2f} ms")


async def test_a_listener_that_raises_does_not_stop_the_others(workers):
    worker_a, worker_b = await workers.feed(), await workers.feed()

    class Broken(Recorder):
        def on_denials(self, denials):
            raise RuntimeError("boom")

    heard = Recorder()
    worker_b.subscribe(Broken())
    worker_b.subscribe(heard)

    await worker_a.publish_denials([denial("j-1")])
    await worker_a.publish_denials([denial("j-2")])

    await eventually(lambda: len(heard.denials) == 2, what="delivery past a failing listener")


async def test_a_malformed_message_is_ignored(workers, redis):
    worker_a, worker_b = await workers.feed(), await workers.feed()
    heard = Recorder()
    worker_b.subscribe(heard)

    for junk in [b"\xff\x00", b"[]", b'{"v":1,"t":"deny","d":[["jti",1,2]]}', b'{"v":1,"t":"deny","d":"x"}',
                 b'{"v":1,"t":"other"}', b'{"v":2,"t":"keys"}', b'{"v":1,"t":"deny","d":[["jti","x",1e999]]}']:
        await redis.publish(worker_b.channel, junk)
    await worker_a.publish_denials([denial("j-1")])

    await eventually(lambda: len(heard.denials) == 1, what="delivery after junk")
    assert heard.denials[0].value == "j-1"
    assert heard.keys_changed == 0


# ---- nothing but messages in Redis -------------------------------------------------------------


async def test_publishing_stores_nothing_in_redis(workers, redis, prefix):
    worker = await workers.feed(start=False)

    await worker.publish_denials([Denial(kind="family", value="f-1", expires_at=time.time() + 120)])
    await worker.publish_keys_changed()

    assert [key async for key in redis.scan_iter(match=prefix + "*")] == []


# ---- health, outages and resynchronisation -----------------------------------------------------


async def test_a_feed_is_fresh_only_between_start_and_close(workers):
    worker = await workers.feed(start=False, **FAST)
    assert worker.last_healthy_at is None
    assert not worker.is_fresh(10.0)

    await worker.start()
    await eventually(lambda: worker.is_fresh(0.2), what="fresh after start")

    await worker.close()
    assert not worker.is_fresh(10.0)


async def test_close_stops_the_feed_even_if_a_cancellation_is_swallowed(workers, monkeypatch):
    # On Python 3.11, asyncio.wait_for inside redis-py can swallow a cancellation
    # (CPython gh-86296); seen as a close() that never returned.
    read = PubSub.get_message

    async def swallowing_get_message(self, *args, **kwargs):
        try:
            return await read(self, *args, **kwargs)
        except asyncio.CancelledError:
            return None

    monkeypatch.setattr(PubSub, "get_message", swallowing_get_message)
    worker = await workers.feed(**FAST)

    await asyncio.wait_for(worker.close(), timeout=2)

    assert not worker.is_fresh(10.0)


async def test_pings_keep_an_idle_feed_fresh(workers):
    worker = await workers.feed(**FAST)
    first = worker.last_healthy_at

    await eventually(lambda: worker.last_healthy_at is not None and worker.last_healthy_at > first,
                     what="a ping reply")


async def test_start_fails_with_service_unavailable_when_redis_is_unreachable(workers):
    worker = await workers.feed(workers.client(port=closed_port()), start=False, **FAST)

    with pytest.raises(ServiceUnavailableError):
        await worker.start(timeout=0.3)
    assert not worker.is_fresh(10.0)


async def test_publishing_while_redis_is_down_is_service_unavailable_but_local_listeners_hear_it(workers):
    worker = await workers.feed(workers.client(port=closed_port()), start=False)
    heard = Recorder()
    worker.subscribe(heard)

    with pytest.raises(ServiceUnavailableError):
        await worker.publish_denials([denial("j-1")])
    with pytest.raises(ServiceUnavailableError):
        await worker.publish_keys_changed()
    assert [d.value for d in heard.denials] == ["j-1"]
    assert heard.keys_changed == 1


async def test_a_killed_connection_is_remade_and_listeners_resync(workers, redis):
    name = f"jwtkit-test-{secrets.token_hex(4)}"
    worker_a = await workers.feed()
    worker_b = await workers.feed(workers.client(name=name), **FAST)
    heard_by_b = Recorder()
    worker_b.subscribe(heard_by_b)
    ours = [c for c in await redis.client_list(_type="pubsub") if c["name"] == name]
    assert len(ours) == 1

    await redis.client_kill_filter(_id=ours[0]["id"])  # like CLIENT KILL TYPE pubsub, but only ours

    await eventually(lambda: heard_by_b.resyncs == 1, what="on_resync after the reconnection")
    assert worker_b.reconnects == 1
    await worker_a.publish_denials([denial("j-after")])
    await eventually(lambda: [d.value for d in heard_by_b.denials] == ["j-after"], what="delivery after reconnecting")


async def test_while_redis_is_unreachable_the_feed_goes_stale_then_reconnects_and_resyncs(workers, redis_proxy):
    proxy = redis_proxy
    try:
        worker_a = await workers.feed()
        worker_b = await workers.feed(workers.client(port=proxy.port), **FAST)
        heard_by_b = Recorder()
        worker_b.subscribe(heard_by_b)
        await eventually(lambda: worker_b.is_fresh(0.2), what="fresh before the outage")

        await proxy.stop()  # Redis "goes away" for worker B
        await eventually(lambda: not worker_b.is_fresh(0.2), what="stale during the outage")
        await worker_a.publish_denials([denial("j-missed")])  # lost to B: pub/sub is at most once
        assert heard_by_b.resyncs == 0

        await proxy.start()  # and comes back on the same port
        await eventually(lambda: heard_by_b.resyncs == 1, what="on_resync after Redis came back")
        await eventually(lambda: worker_b.is_fresh(0.2), what="fresh after the reconnection")
        await worker_a.publish_denials([denial("j-after")])
        await eventually(lambda: "j-after" in heard_by_b.arrived, what="delivery after the reconnection")
        assert "j-missed" not in heard_by_b.arrived  # why the listener must reload from the database
    finally:
        await proxy.stop()


async def test_a_failing_resync_keeps_the_feed_stale_and_is_retried(workers, redis):
    name = f"jwtkit-test-{secrets.token_hex(4)}"
    worker = await workers.feed(workers.client(name=name), **FAST)
    database = {"up": True}
    attempts: list[bool] = []

    class Service(Recorder):
        async def on_resync(self):
            attempts.append(database["up"])
            if not database["up"]:
                raise ServiceUnavailableError()

    worker.subscribe(Service())
    await eventually(lambda: worker.is_fresh(0.2), what="fresh before the kill")
    (ours,) = [c for c in await redis.client_list(_type="pubsub") if c["name"] == name]

    database["up"] = False
    await redis.client_kill_filter(_id=ours["id"])
    await eventually(lambda: len(attempts) >= 2, what="a failed resync, retried")
    await eventually(lambda: not worker.is_fresh(0.2), what="stale while the resync fails")
    database["up"] = True

    await eventually(lambda: attempts[-1], what="a resync once the database is back")
    await eventually(lambda: worker.is_fresh(0.2), what="fresh after a successful resync")
    assert attempts.count(True) == 1


async def test_open_redis_starts_a_feed_that_reaches_other_workers(workers, prefix):
    handles = await open_redis(REDIS_URL, prefix=prefix, timeout=2)
    try:
        other = await workers.feed()
        heard = Recorder()
        other.subscribe(heard)
        assert handles.feed.is_fresh(1.0)

        await handles.feed.publish_denials([denial("j-1")])

        await eventually(lambda: len(heard.denials) == 1, what="delivery from the opened feed")
    finally:
        await handles.close()
    assert not handles.feed.is_fresh(10.0)
