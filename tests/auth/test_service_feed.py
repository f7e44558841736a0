"""The service as a feed listener, over memory stores and a feed whose health the test sets:
subscribe before loading, resync from the database, fail closed (or open) when the feed is
stale, and the maintenance loop."""

import asyncio
import dataclasses
import logging

import pytest

import jwtkit
from jwtkit.auth.errors import InvalidTokenError, ServiceUnavailableError
from jwtkit.auth.models import Denial
from jwtkit.auth.service import AuthService
from jwtkit.storage.memory import LocalRevocationFeed, MemoryStore, open_memory_stores

from .conftest import PASSWORD

pytestmark = pytest.mark.anyio

VIEW_LOG = "jwtkit.auth.revocation"


class SwitchableFeed(LocalRevocationFeed):
    """A local feed whose freshness the test switches, counting the services subscribed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.fresh = True
        self.asked: list[float] = []
        self.subscribers = 0

    def subscribe(self, listener):
        unsubscribe = super().subscribe(listener)
        self.subscribers += 1
        live = True

        def counted() -> None:
            nonlocal live
            self.subscribers -= live
            live = False
            unsubscribe()

        return counted

    def is_fresh(self, max_staleness: float) -> bool:
        self.asked.append(max_staleness)
        return self.fresh


@pytest.fixture
def memory():
    return MemoryStore()


@pytest.fixture
def feed():
    return SwitchableFeed()


@pytest.fixture
async def open_on(memory, feed, settings, clock):
    opened = []

    async def open_(**changes):
        service = await AuthService.open(dataclasses.replace(settings, **changes),
                                         open_memory_stores(memory, feed=feed), clock=clock)
        opened.append(service)
        return service

    yield open_
    for service in opened:
        await service.close()


async def login(service):
    await service.register("alice", PASSWORD)
    return await service.login("alice", PASSWORD, client="c")


# ---- open and resync ---------------------------------------------------------------------------


async def test_open_subscribes_to_the_feed_before_loading_the_denylist(memory, settings, clock):
    order = []

    class RecordingFeed(LocalRevocationFeed):
        def subscribe(self, listener):
            order.append("subscribe")
            return super().subscribe(listener)

    class RecordingStore(MemoryStore):
        async def live_denials(self, *, now):
            order.append("load")
            return await super().live_denials(now=now)

    service = await AuthService.open(settings, open_memory_stores(RecordingStore(), feed=RecordingFeed()), clock=clock)
    await service.close()

    assert order == ["subscribe", "load"]


async def test_a_failed_open_unsubscribes_from_the_feed(settings, clock):
    feed = SwitchableFeed()

    class Broken(MemoryStore):
        async def live_denials(self, *, now):
            raise ServiceUnavailableError()

    with pytest.raises(ServiceUnavailableError):
        await AuthService.open(settings, open_memory_stores(Broken(), feed=feed), clock=clock)

    assert feed.subscribers == 0


async def test_resync_applies_revocations_the_feed_never_delivered(open_on, memory, clock):
    service = await open_on()
    pair = await login(service)
    principal = service.authenticate(pair.access_token)
    await memory.revoke(family_ids=[], denials=[Denial(kind="jti", value=principal.jti, expires_at=principal.exp)],
                        now=clock())  # written by "another process" whose message was lost
    service.authenticate(pair.access_token)

    await service.resync()

    with pytest.raises(InvalidTokenError):
        service.authenticate(pair.access_token)


async def test_resync_keeps_the_verifier_when_the_keys_did_not_change(open_on):
    service = await open_on()
    ring = service.keys.ring

    await service.resync()

    assert service.keys.ring is ring


async def test_resync_picks_up_a_rotation_the_feed_never_delivered(open_on, memory, settings, clock):
    service, other = await open_on(), await open_on()
    await login(service)
    other._unsubscribe()  # deaf to the feed: it learns only by resyncing
    new_kid = await service.rotate_keys()
    assert new_kid not in {key["kid"] for key in other.jwks()["keys"]}

    await other.resync()

    assert other.jwks() == service.jwks()


async def test_a_failing_resync_raises_so_the_feed_stays_stale(open_on, memory, monkeypatch):
    service = await open_on()

    async def down(*, now):
        raise ServiceUnavailableError()

    monkeypatch.setattr(memory, "live_denials", down)
    with pytest.raises(ServiceUnavailableError):
        await service.resync()


# ---- a stale feed ------------------------------------------------------------------------------


async def test_a_stale_feed_makes_authenticate_fail_closed_as_unavailable_with_one_log_line(open_on, feed, caplog):
    service = await open_on(revocation_max_staleness=2.5)
    pair = await login(service)
    caplog.set_level(logging.INFO, logger=VIEW_LOG)

    feed.fresh = False
    for _ in range(10):
        with pytest.raises(ServiceUnavailableError) as refused:
            service.authenticate(pair.access_token)
        assert "stale" in refused.value.reason

    assert feed.asked[-1] == 2.5
    (line,) = [r for r in caplog.records if r.name == VIEW_LOG]
    assert line.levelno == logging.ERROR
    assert "failing closed" in line.getMessage()


async def test_allow_stale_accepts_a_valid_token_while_the_feed_is_stale_for_revoking_it(open_on, feed):
    service = await open_on()
    pair = await login(service)
    feed.fresh = False

    principal = service.authenticate(pair.access_token, allow_stale=True)
    await service.logout(principal, pair.refresh_token)

    with pytest.raises(InvalidTokenError):
        service.authenticate(pair.access_token, allow_stale=True)


async def test_a_stale_feed_still_refuses_a_token_known_revoked_as_invalid(open_on, feed):
    service = await open_on()
    pair = await login(service)
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)

    feed.fresh = False
    with pytest.raises(InvalidTokenError) as refused:
        service.authenticate(pair.access_token)
    assert refused.value.reason == "access token revoked"


async def test_a_stale_feed_still_refuses_a_forged_token_as_invalid(open_on, feed):
    service = await open_on()
    pair = await login(service)
    header, payload, signature = pair.access_token.split(".")

    feed.fresh = False
    with pytest.raises(InvalidTokenError):
        service.authenticate(f"{header}.{payload}.{signature[::-1]}")


async def test_a_feed_back_in_sync_accepts_tokens_again_and_says_so_once(open_on, feed, caplog):
    service = await open_on()
    pair = await login(service)
    feed.fresh = False
    with pytest.raises(ServiceUnavailableError):
        service.authenticate(pair.access_token)
    caplog.set_level(logging.INFO, logger=VIEW_LOG)
    caplog.clear()

    feed.fresh = True
    for _ in range(3):
        service.authenticate(pair.access_token)

    assert len([r for r in caplog.records if r.name == VIEW_LOG]) == 1


async def test_each_outage_is_logged_once(open_on, feed, caplog):
    service = await open_on()
    pair = await login(service)
    caplog.set_level(logging.ERROR, logger=VIEW_LOG)

    for _ in range(2):
        feed.fresh = False
        for _ in range(3):
            with pytest.raises(ServiceUnavailableError):
                service.authenticate(pair.access_token)
        feed.fresh = True
        service.authenticate(pair.access_token)

    assert len([r for r in caplog.records if r.name == VIEW_LOG]) == 2


async def test_fail_open_keeps_accepting_unrevoked_tokens_and_still_refuses_known_revoked_ones(open_on, feed, caplog):
    service = await open_on(revocation_fail_open=True)
    kept, revoked = await login(service), await service.login("alice", PASSWORD, client="c")
    await service.logout(service.authenticate(revoked.access_token), revoked.refresh_token)
    caplog.set_level(logging.INFO, logger=VIEW_LOG)

    feed.fresh = False
    for _ in range(5):
        assert service.authenticate(kept.access_token).username == "alice"
    with pytest.raises(InvalidTokenError) as refused:
        service.authenticate(revoked.access_token)
    assert refused.value.reason == "access token revoked"

    (line,) = [r for r in caplog.records if r.name == VIEW_LOG]
    assert line.levelno == logging.WARNING
    assert "may be stale" in line.getMessage()


async def test_a_stale_feed_does_not_stop_refresh_which_checks_the_database(open_on, feed):
    service = await open_on()
    pair = await login(service)
    feed.fresh = False

    assert (await service.refresh(pair.refresh_token)).access_token


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), True, "1"])
async def test_revocation_max_staleness_must_be_a_positive_number(settings, value):
    with pytest.raises(ValueError, match="revocation_max_staleness"):
        dataclasses.replace(settings, revocation_max_staleness=value)


# ---- maintenance -------------------------------------------------------------------------------


async def test_maintenance_purges_expired_rows_and_memory_entries(open_on, memory, clock, settings):
    service = await open_on()
    pair = await login(service)
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    clock.advance(settings.refresh_ttl + 1)

    jti = jwtkit.decode_unverified(pair.refresh_token)[1]["jti"]

    service.start_maintenance(interval=0.01)
    for _ in range(500):
        if await memory.get_refresh(jti) is None and len(service.revocations) == 0:
            break
        await asyncio.sleep(0.01)

    assert await memory.get_refresh(jti) is None
    assert await memory.purge_tokens(now=clock()) == 0  # no expired row or denial left behind
    assert len(service.revocations) == 0


async def test_maintenance_reloads_revocations_the_feed_never_delivered(open_on, memory, clock):
    service = await open_on()
    pair = await login(service)
    principal = service.authenticate(pair.access_token)
    await memory.revoke(family_ids=[], denials=[Denial(kind="jti", value=principal.jti, expires_at=principal.exp)],
                        now=clock())

    service.start_maintenance(interval=0.01)
    for _ in range(500):
        if service.revocations.jti_denied(principal.jti):
            break
        await asyncio.sleep(0.01)

    with pytest.raises(InvalidTokenError):
        service.authenticate(pair.access_token)


async def test_a_failing_maintenance_round_is_logged_and_the_loop_goes_on(open_on, memory, monkeypatch, caplog):
    service = await open_on()
    calls = []

    async def purge_sessions(*, now):
        calls.append(now)
        if len(calls) == 1:
            raise ServiceUnavailableError()
        return 0

    monkeypatch.setattr(memory, "purge_sessions", purge_sessions)
    service.start_maintenance(interval=0.01)
    for _ in range(500):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)

    assert len(calls) >= 3
    assert any("maintenance failed" in r.getMessage() for r in caplog.records)


async def test_close_stops_the_maintenance_loop(open_on, memory, monkeypatch):
    service = await open_on()
    calls = []

    async def purge_sessions(*, now):
        calls.append(now)
        return 0

    monkeypatch.setattr(memory, "purge_sessions", purge_sessions)
    service.start_maintenance(interval=0.01)
    await asyncio.sleep(0.05)

    await service.close()
    seen = len(calls)
    await asyncio.sleep(0.05)

    assert seen >= 1
    assert len(calls) == seen


async def test_run_maintenance_is_cancellable(open_on):
    service = await open_on()
    task = asyncio.create_task(service.run_maintenance(interval=0.01))
    await asyncio.sleep(0.03)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
