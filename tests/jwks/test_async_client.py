"""``jwtkit.AsyncJWKSClient`` and ``jwtkit.AsyncVerifier``: the sync client's rules in asyncio,
single-flight across tasks, and an event loop that keeps running while a fetch waits."""

from __future__ import annotations

import asyncio
import logging

import pytest

import jwtkit

from .server import FakeClock, JWKSServer, token

pytestmark = pytest.mark.anyio


def client(server: JWKSServer, clock: FakeClock, **options: float) -> jwtkit.AsyncJWKSClient:
    return jwtkit.AsyncJWKSClient(server.url, clock=clock, **options)  # type: ignore[arg-type]


def verifier(keys: jwtkit.AsyncJWKSClient) -> jwtkit.AsyncVerifier:
    return jwtkit.AsyncVerifier(keys, algorithms=["ES256"])


async def test_the_first_verification_fetches_and_later_ones_use_the_cache(server, clock, key):
    check = verifier(client(server, clock))
    for _ in range(5):
        assert (await check.verify(token(key)))["sub"] == "alice"
    assert server.fetches == 1


async def test_keyset_is_awaited(server, clock, key):
    keys = await client(server, clock).keyset()
    assert keys.get("k1") == key.public_key()


async def test_the_set_is_fetched_again_after_a_shorter_max_age(server, clock, key):
    server.cache_control = "max-age=60"
    check = verifier(client(server, clock, cache_ttl=300))
    await check.verify(token(key))
    clock.advance(61)
    await check.verify(token(key))
    assert server.fetches == 2


async def test_a_rotated_in_key_is_picked_up_on_its_first_token(server, clock, key):
    check = verifier(client(server, clock))
    await check.verify(token(key))
    new = jwtkit.Key.generate("ES256", kid="k2")
    server.publish(key, new)
    assert (await check.verify(token(new)))["sub"] == "alice"
    assert server.fetches == 2


async def test_unknown_kids_refetch_at_most_once_per_cooldown(server, clock, key):
    check = verifier(client(server, clock, cooldown=30))
    await check.verify(token(key))
    for n in range(20):
        with pytest.raises(jwtkit.KeyNotFoundError):
            await check.verify(token(jwtkit.Key.generate("ES256", kid=f"junk{n}")))
    assert server.fetches == 2
    clock.advance(31)
    with pytest.raises(jwtkit.KeyNotFoundError):
        await check.verify(token(jwtkit.Key.generate("ES256", kid="junk-later")))
    assert server.fetches == 3


@pytest.mark.parametrize("mode", ["500", "html", "huge", "huge_unsized", "redirect"])
async def test_a_failed_refetch_keeps_serving_the_last_good_set(server, clock, key, mode):
    check = verifier(client(server, clock, cache_ttl=60))
    await check.verify(token(key))
    server.mode = mode
    clock.advance(61)
    assert (await check.verify(token(key)))["sub"] == "alice"
    assert server.fetches == 2


async def test_one_warning_per_failure_streak(server, clock, key, caplog):
    check = verifier(client(server, clock, cache_ttl=60))
    await check.verify(token(key))
    server.down()
    with caplog.at_level(logging.WARNING, logger="jwtkit.jwks"):
        for _ in range(3):
            clock.advance(61)
            await check.verify(token(key))
    assert len(caplog.records) == 1


@pytest.mark.parametrize(("mode", "reason"), [
    ("500", "HTTP 500"), ("html", "text/html"), ("huge", "max_bytes"), ("huge_unsized", "max_bytes"),
    ("redirect", "not followed"),
])
async def test_no_set_at_all_raises_jwks_unavailable(server, clock, key, mode, reason):
    server.mode = mode
    with pytest.raises(jwtkit.JWKSUnavailableError, match=reason) as caught:
        await verifier(client(server, clock)).verify(token(key))
    assert not isinstance(caught.value, jwtkit.JWTError)
    assert server.elsewhere == 0


async def test_a_set_older_than_max_stale_is_not_used(server, clock, key):
    check = verifier(client(server, clock, cache_ttl=60, max_stale=600))
    await check.verify(token(key))
    server.mode = "500"
    clock.advance(601)
    with pytest.raises(jwtkit.JWKSUnavailableError, match="max_stale"):
        await check.verify(token(key))


async def test_a_slow_endpoint_times_out(server, clock):
    server.mode, server.delay = "slow", 5.0
    with pytest.raises(jwtkit.JWKSUnavailableError, match="timed out"):
        await client(server, clock, timeout=0.2).keyset()


async def test_fifty_tasks_with_unknown_kids_share_one_fetch(server, clock, key):
    check = verifier(client(server, clock))
    await check.verify(token(key))
    rotated = jwtkit.Key.generate("ES256", kid="k2")
    server.publish(key, rotated)
    server.mode, server.delay = "slow", 0.3
    results = await asyncio.gather(*(check.verify(token(rotated)) for _ in range(50)))
    assert [claims["sub"] for claims in results] == ["alice"] * 50
    assert server.fetches == 2


async def test_fifty_tasks_missing_the_first_fetch_share_it(server, clock, key):
    check = verifier(client(server, clock))
    server.mode, server.delay = "slow", 0.3
    results = await asyncio.gather(*(check.verify(token(key)) for _ in range(50)))
    assert len(results) == 50
    assert server.fetches == 1


async def test_while_one_task_refreshes_an_expired_set_the_others_keep_using_it(server, clock, key):
    check = verifier(client(server, clock, cache_ttl=60))
    await check.verify(token(key))
    clock.advance(61)
    server.mode, server.delay = "slow", 30.0
    refresher = asyncio.ensure_future(check.verify(token(key)))
    while server.fetches < 2:  # the refresh is waiting on the slow endpoint
        await asyncio.sleep(0.01)
    assert (await check.verify(token(key)))["sub"] == "alice"  # no wait for it
    assert not refresher.done()
    server.released.set()
    assert (await refresher)["sub"] == "alice"
    assert server.fetches == 2


async def test_the_event_loop_keeps_running_while_a_fetch_waits(server, clock, key):
    server.mode, server.delay = "slow", 0.5
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.ensure_future(ticker())
    try:
        await verifier(client(server, clock)).verify(token(key))
    finally:
        running.cancel()
    assert ticks >= 10  # a blocking fetch would have let none run for half a second


async def test_with_a_fixed_key_nothing_is_fetched(key):
    check = jwtkit.AsyncVerifier(key.public_key(), algorithms=["ES256"], required=["exp"])
    assert (await check.verify(token(key)))["sub"] == "alice"
    with pytest.raises(jwtkit.InvalidSignatureError):
        await check.verify(token(key)[:-4] + "AAAA")


def test_the_async_verifier_refuses_a_sync_client(server):
    with pytest.raises(TypeError, match="AsyncJWKSClient"):
        jwtkit.AsyncVerifier(jwtkit.JWKSClient(server.url), algorithms=["ES256"])


def test_the_async_client_refuses_plain_http_to_another_host():
    with pytest.raises(ValueError, match="https"):
        jwtkit.AsyncJWKSClient("http://auth.example/jwks")
