"""``BackstoppedFeed``: publishing and freshness are the primary feed's; both feeds deliver to the
listeners (the backstop poll catches what pub/sub lost)."""

import pytest

from jwtkit.auth.models import Denial
from jwtkit.storage.backstop import BackstoppedFeed
from jwtkit.storage.memory import LocalRevocationFeed

pytestmark = pytest.mark.anyio

DENIAL = Denial(kind="jti", value="j1", expires_at=2_000_000_000.0)


class Feed(LocalRevocationFeed):
    def __init__(self, fresh: bool) -> None:
        super().__init__()
        self.fresh = fresh
        self.published: list[object] = []

    def is_fresh(self, max_staleness: float) -> bool:
        return self.fresh

    async def publish_denials(self, denials):
        self.published.append(list(denials))
        await super().publish_denials(denials)

    async def publish_keys_changed(self):
        self.published.append("keys")
        await super().publish_keys_changed()


class Listener:
    def __init__(self) -> None:
        self.denials: list[Denial] = []
        self.keys_changed = 0

    def on_denials(self, denials):
        self.denials.extend(denials)

    def on_keys_changed(self):
        self.keys_changed += 1

    async def on_resync(self):
        pass


def test_freshness_is_the_primary_feeds():
    assert BackstoppedFeed(Feed(fresh=True), Feed(fresh=False)).is_fresh(1.0)
    assert not BackstoppedFeed(Feed(fresh=False), Feed(fresh=True)).is_fresh(1.0)


async def test_what_either_feed_delivers_reaches_the_listener():
    primary, backstop = Feed(fresh=True), Feed(fresh=True)
    listener = Listener()
    BackstoppedFeed(primary, backstop).subscribe(listener)

    await primary.publish_denials([DENIAL])
    await backstop.publish_denials([DENIAL])  # the poll finding it again: applied twice, harmlessly
    await backstop.publish_keys_changed()

    assert listener.denials == [DENIAL, DENIAL]
    assert listener.keys_changed == 1


async def test_publishing_goes_to_the_primary_only():
    primary, backstop = Feed(fresh=True), Feed(fresh=True)
    feed = BackstoppedFeed(primary, backstop)

    await feed.publish_denials([DENIAL])
    await feed.publish_keys_changed()

    assert primary.published == [[DENIAL], "keys"]
    assert backstop.published == []


async def test_unsubscribing_leaves_both_feeds():
    primary, backstop = Feed(fresh=True), Feed(fresh=True)
    listener = Listener()
    unsubscribe = BackstoppedFeed(primary, backstop).subscribe(listener)

    unsubscribe()
    await primary.publish_denials([DENIAL])
    await backstop.publish_denials([DENIAL])

    assert listener.denials == []
