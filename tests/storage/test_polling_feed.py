"""``DatabasePollingFeed``: revocations and key rotations written to the shared database by one
process reach the listeners of another by polling; a failing database makes the feed stale,
and the first successful poll after a failure resynchronises the listeners first."""

import asyncio
import time

import pytest

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import Denial, SigningKeyRecord
from jwtkit.storage.memory import MemoryStore
from jwtkit.storage.polling import DatabasePollingFeed

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.denied: set[str] = set()
        self.keys_changed = 0
        self.resyncs = 0
        self.resync_fails = False

    def on_denials(self, denials):
        self.denied.update(denial.value for denial in denials)

    def on_keys_changed(self):
        self.keys_changed += 1

    async def on_resync(self):
        self.resyncs += 1
        if self.resync_fails:
            raise ServiceUnavailableError()


class FlakyStore(MemoryStore):
    up = True

    async def denials_since(self, since, *, now):
        if not self.up:
            raise ServiceUnavailableError()
        return await super().denials_since(since, now=now)


@pytest.fixture
async def database():
    return FlakyStore()


@pytest.fixture
async def feed(database):
    feed = DatabasePollingFeed(database, database, interval=0.01)
    yield feed
    await feed.close()


async def until(condition, what):
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{what} not reached within 5 s")


def denial(value):
    return Denial(kind="jti", value=value, expires_at=time.time() + 300)


async def test_a_denial_written_by_another_process_reaches_the_listeners(feed, database):
    heard = Recorder()
    feed.subscribe(heard)
    await feed.start()

    await database.revoke(family_ids=[], denials=[denial("j-1")], now=time.time())

    await until(lambda: "j-1" in heard.denied, "delivery")


async def test_a_key_rotation_by_another_process_reaches_the_listeners(feed, database):
    heard = Recorder()
    feed.subscribe(heard)
    await feed.start()

    await database.add_signing_key(
        SigningKeyRecord(kid="k2", alg="ES256", private_jwk="{}", encrypted=False, created_at=time.time()),
        retire_others_at=None, not_after=None,
    )

    await until(lambda: heard.keys_changed == 1, "key change")


async def test_what_this_process_publishes_reaches_its_listeners_at_once(feed):
    heard = Recorder()
    feed.subscribe(heard)

    await feed.publish_denials([denial("j-1")])
    await feed.publish_keys_changed()

    assert heard.denied == {"j-1"}
    assert heard.keys_changed == 1


async def test_the_feed_is_fresh_only_between_a_successful_start_and_close(feed):
    assert not feed.is_fresh(10.0)
    await feed.start()
    assert feed.is_fresh(1.0)
    await feed.close()
    assert not feed.is_fresh(10.0)


async def test_a_failing_database_makes_the_feed_stale_and_recovery_resyncs_first(feed, database):
    heard = Recorder()
    feed.subscribe(heard)
    await feed.start()
    await asyncio.sleep(0.05)
    assert heard.resyncs == 0  # none while polls succeed

    database.up, heard.resync_fails = False, True  # a real listener's resync reads the database too
    await until(lambda: not feed.is_fresh(0.05), "stale")
    await until(lambda: heard.resyncs >= 1, "a resync attempt")
    database.up, heard.resync_fails = True, False

    await until(lambda: feed.is_fresh(0.05), "fresh again")
    resyncs = heard.resyncs
    await asyncio.sleep(0.05)
    assert heard.resyncs == resyncs  # no more once in sync


async def test_a_failing_resync_keeps_the_feed_stale(feed, database):
    heard = Recorder()
    feed.subscribe(heard)
    await feed.start()
    database.up = False
    await until(lambda: not feed.is_fresh(0.05), "stale")
    heard.resync_fails = True
    database.up = True

    await until(lambda: heard.resyncs >= 2, "retried resyncs")
    assert not feed.is_fresh(0.05)
    heard.resync_fails = False
    await until(lambda: feed.is_fresh(0.05), "fresh after a successful resync")


async def test_start_fails_when_the_database_is_down(feed, database):
    database.up = False
    with pytest.raises(ServiceUnavailableError):
        await feed.start()
