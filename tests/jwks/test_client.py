"""``jwtkit.JWKSClient`` against a local JWKS server that misbehaves on command: fetch counts,
the cache and ``max-age``, the unknown-``kid`` cooldown, rotation, stale-on-error, the caps,
single-flight across threads. Cooldowns and TTLs pass on a fake clock; nothing sleeps for them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

import jwtkit

from .server import FakeClock, JWKSServer, token, wait_until


def client(server: JWKSServer, clock: FakeClock, **options: float) -> jwtkit.JWKSClient:
    return jwtkit.JWKSClient(server.url, clock=clock, **options)  # type: ignore[arg-type]


def verifier(keys: jwtkit.JWKSClient) -> jwtkit.Verifier:
    return jwtkit.Verifier(keys, algorithms=["ES256"])


# ---- the cache -----------------------------------------------------------------------------------

def test_the_first_verification_fetches_the_set_and_later_ones_use_the_cache(server, clock, key):
    check = verifier(client(server, clock))
    assert server.fetches == 0  # building does no I/O
    for _ in range(5):
        assert check.verify(token(key))["sub"] == "alice"
    assert server.fetches == 1


def test_keyset_returns_the_published_keys(server, clock, key):
    keys = client(server, clock).keyset()
    assert isinstance(keys, jwtkit.KeySet)
    assert keys.get("k1") == key.public_key()


def test_the_set_is_fetched_again_after_cache_ttl(server, clock, key):
    keys = client(server, clock, cache_ttl=300)
    keys.keyset()
    clock.advance(299)
    keys.keyset()
    assert server.fetches == 1
    clock.advance(2)
    keys.keyset()
    assert server.fetches == 2


def test_a_shorter_cache_control_max_age_wins(server, clock):
    server.cache_control = "public, max-age=60"
    keys = client(server, clock, cache_ttl=300, cooldown=30)
    keys.keyset()
    clock.advance(61)
    keys.keyset()
    assert server.fetches == 2


def test_a_longer_max_age_does_not_extend_cache_ttl(server, clock):
    server.cache_control = "max-age=86400"
    keys = client(server, clock, cache_ttl=300)
    keys.keyset()
    clock.advance(301)
    keys.keyset()
    assert server.fetches == 2


def test_no_store_never_makes_a_fetch_per_token_the_cooldown_is_the_floor(server, clock, key):
    server.cache_control = "no-store"
    check = verifier(client(server, clock, cooldown=30))
    for _ in range(10):
        check.verify(token(key))
    assert server.fetches == 1
    clock.advance(31)
    check.verify(token(key))
    assert server.fetches == 2


# ---- unknown kid: the cooldown, rotation -------------------------------------------------------------

def test_a_key_rotated_in_at_the_issuer_is_picked_up_on_its_first_token(server, clock, key):
    check = verifier(client(server, clock))
    check.verify(token(key))
    new = jwtkit.Key.generate("ES256", kid="k2")
    server.publish(key, new)
    assert check.verify(token(new))["sub"] == "alice"
    assert server.fetches == 2


def test_unknown_kids_refetch_at_most_once_per_cooldown_and_then_fail_fast(server, clock, key):
    check = verifier(client(server, clock, cooldown=30))
    check.verify(token(key))
    for n in range(20):
        junk = jwtkit.Key.generate("ES256", kid=f"junk{n}")
        with pytest.raises(jwtkit.KeyNotFoundError):
            check.verify(token(junk))
    assert server.fetches == 2  # the first fetch and one refetch for all twenty junk kids
    clock.advance(31)
    with pytest.raises(jwtkit.KeyNotFoundError):
        check.verify(token(jwtkit.Key.generate("ES256", kid="junk-later")))
    assert server.fetches == 3


def test_a_known_kid_still_verifies_during_the_cooldown(server, clock, key):
    check = verifier(client(server, clock))
    with pytest.raises(jwtkit.KeyNotFoundError):
        check.verify(token(jwtkit.Key.generate("ES256", kid="junk")))
    assert check.verify(token(key))["sub"] == "alice"


def test_a_key_the_issuer_dropped_stops_verifying_once_the_set_is_fetched_again(server, clock, key):
    check = verifier(client(server, clock, cache_ttl=60))
    check.verify(token(key))  # its header is now resolved and cached
    server.publish(jwtkit.Key.generate("ES256", kid="k2"))
    clock.advance(61)
    with pytest.raises(jwtkit.KeyNotFoundError):
        check.verify(token(key))


def test_the_token_cache_serves_a_token_again_without_the_keys_changing(server, clock, key):
    check = jwtkit.Verifier(client(server, clock, cache_ttl=60), algorithms=["ES256"], cache_size=100)
    first = token(key)
    assert check.verify(first) == check.verify(first)
    assert server.fetches == 1


def test_a_cached_token_stops_verifying_once_the_issuer_dropped_its_key(server, clock, key):
    check = jwtkit.Verifier(client(server, clock, cache_ttl=60), algorithms=["ES256"], cache_size=100)
    cached = token(key)
    check.verify(cached)
    server.publish(jwtkit.Key.generate("ES256", kid="k2"))
    clock.advance(61)
    with pytest.raises(jwtkit.KeyNotFoundError):
        check.verify(cached)


def test_a_cached_token_still_serves_from_stale_keys_when_the_issuer_is_down(server, clock, key):
    check = jwtkit.Verifier(client(server, clock, cache_ttl=60), algorithms=["ES256"], cache_size=100)
    cached = token(key)
    check.verify(cached)
    server.down()
    clock.advance(61)
    assert check.verify(cached)["sub"] == "alice"


# ---- failures: stale-on-error, unavailable -------------------------------------------------------------

@pytest.mark.parametrize("mode", ["500", "html", "not_jwks", "huge", "huge_unsized", "redirect"])
def test_a_failed_refetch_keeps_serving_the_last_good_set(server, clock, key, mode):
    check = verifier(client(server, clock, cache_ttl=60))
    check.verify(token(key))
    server.mode = mode
    clock.advance(61)
    assert check.verify(token(key))["sub"] == "alice"
    assert server.fetches == 2


def test_the_endpoint_down_keeps_serving_the_last_good_set(server, clock, key):
    check = verifier(client(server, clock, cache_ttl=60))
    check.verify(token(key))
    server.down()
    clock.advance(61)
    assert check.verify(token(key))["sub"] == "alice"


def test_one_warning_per_failure_streak(server, clock, key, caplog):
    check = verifier(client(server, clock, cache_ttl=60, cooldown=30))
    check.verify(token(key))
    server.mode = "500"
    with caplog.at_level(logging.INFO, logger="jwtkit.jwks"):
        for _ in range(5):
            clock.advance(61)
            check.verify(token(key))
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "HTTP 500" in warnings[0].getMessage()
        server.mode = "ok"
        clock.advance(61)
        check.verify(token(key))
        assert "answers again" in caplog.records[-1].getMessage()
    assert server.fetches == 7


def test_a_failed_endpoint_is_tried_again_only_after_the_cooldown(server, clock, key):
    check = verifier(client(server, clock, cache_ttl=60, cooldown=30))
    check.verify(token(key))
    server.mode = "500"
    clock.advance(61)
    for _ in range(10):
        check.verify(token(key))
    assert server.fetches == 2
    clock.advance(31)
    check.verify(token(key))
    assert server.fetches == 3


def test_a_set_older_than_max_stale_is_not_used(server, clock, key):
    check = verifier(client(server, clock, cache_ttl=60, max_stale=3600))
    check.verify(token(key))
    server.mode = "500"
    clock.advance(3601)
    with pytest.raises(jwtkit.JWKSUnavailableError, match="max_stale"):
        check.verify(token(key))


def test_no_set_at_all_raises_jwks_unavailable_which_is_not_a_token_error(server, clock, key):
    server.mode = "500"
    check = verifier(client(server, clock, cooldown=30))
    with pytest.raises(jwtkit.JWKSUnavailableError) as caught:
        check.verify(token(key))
    assert not isinstance(caught.value, jwtkit.JWTError)
    assert caught.value.url == server.url
    assert caught.value.reason == "HTTP 500"
    assert caught.value.retry_after == 30


def test_while_unavailable_callers_fail_fast_without_a_fetch_each(server, clock, key):
    server.down()
    check = verifier(client(server, clock, cooldown=30))
    for _ in range(10):
        with pytest.raises(jwtkit.JWKSUnavailableError, match="refused"):
            check.verify(token(key))
    assert server.fetches == 0
    server.up()
    clock.advance(31)
    assert check.verify(token(key))["sub"] == "alice"


@pytest.mark.parametrize(("mode", "reason"), [
    ("500", "HTTP 500"),
    ("html", "text/html"),
    ("not_jwks", "not a usable JWK Set"),
    ("huge", "max_bytes"),
    ("huge_unsized", "max_bytes"),
    ("redirect", "redirect"),
])
def test_each_bad_answer_is_named_in_the_error(server, clock, mode, reason):
    server.mode = mode
    with pytest.raises(jwtkit.JWKSUnavailableError, match=reason):
        client(server, clock).keyset()


def test_redirects_are_not_followed(server, clock):
    server.mode = "redirect"
    with pytest.raises(jwtkit.JWKSUnavailableError, match="not followed"):
        client(server, clock).keyset()
    assert server.elsewhere == 0


def test_a_slow_endpoint_times_out(server, clock):
    server.mode, server.delay = "slow", 5.0
    with pytest.raises(jwtkit.JWKSUnavailableError, match="timed out"):
        client(server, clock, timeout=0.2).keyset()


def test_the_body_is_refused_past_max_bytes_even_when_small(server, clock, key):
    server.publish(*[jwtkit.Key.generate("ES256", kid=f"k{n}") for n in range(10)])
    with pytest.raises(jwtkit.JWKSUnavailableError, match="max_bytes"):
        client(server, clock, max_bytes=1000).keyset()


# ---- single-flight ---------------------------------------------------------------------------------

def in_fifty_threads(call: Callable[[], object]) -> list[object]:
    """``call()`` in 50 threads released together; what they returned."""
    start = threading.Barrier(50)
    results: list[object] = []

    def run() -> None:
        start.wait()
        results.append(call())

    threads = [threading.Thread(target=run) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_fifty_threads_with_unknown_kids_share_one_fetch(server, clock, key):
    check = verifier(client(server, clock))
    check.verify(token(key))
    rotated = jwtkit.Key.generate("ES256", kid="k2")
    server.publish(key, rotated)
    server.mode, server.delay = "slow", 0.5
    assert in_fifty_threads(lambda: check.verify(token(rotated))["sub"]) == ["alice"] * 50
    assert server.fetches == 2  # the first fetch, then one for all fifty


def test_fifty_threads_missing_the_first_fetch_share_it(server, clock, key):
    check = verifier(client(server, clock))
    server.mode, server.delay = "slow", 0.5
    assert in_fifty_threads(lambda: check.verify(token(key))["sub"]) == ["alice"] * 50
    assert server.fetches == 1


def test_while_one_thread_refreshes_an_expired_set_the_others_keep_using_it(server, clock, key):
    check = verifier(client(server, clock, cache_ttl=60))
    check.verify(token(key))
    clock.advance(61)
    server.mode, server.delay = "slow", 30.0
    refresher = threading.Thread(target=check.verify, args=(token(key),))
    refresher.start()
    wait_until(lambda: server.fetches == 2)  # the refresh is waiting on the slow endpoint
    assert check.verify(token(key))["sub"] == "alice"  # no wait for it
    assert refresher.is_alive()
    server.released.set()
    refresher.join()
    assert server.fetches == 2


def test_a_sync_verifier_refuses_the_async_client(server):
    with pytest.raises(TypeError, match="AsyncVerifier"):
        jwtkit.Verifier(jwtkit.AsyncJWKSClient(server.url), algorithms=["ES256"])


# ---- the URL and the options -----------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/jwks", "http://localhost/jwks", "http://[::1]:9/jwks", "http://127.0.0.2/jwks",
    "https://auth.example/.well-known/jwks.json",
])
def test_https_or_loopback_http_is_accepted(url):
    assert jwtkit.JWKSClient(url).url == url


@pytest.mark.parametrize("url", [
    "http://auth.example/jwks", "http://10.0.0.1/jwks", "ftp://auth.example/jwks", "file:///etc/jwks.json",
    "https:///jwks", "https://user:pw@auth.example/jwks", "https://auth.example/jwks#x", "jwks.json",
    "https://auth.example:99999/jwks", "https://auth.example/a b",
])
def test_other_urls_are_refused_when_the_client_is_built(url):
    with pytest.raises(ValueError, match="JWKS URL"):
        jwtkit.JWKSClient(url)


@pytest.mark.parametrize(("option", "value"), [
    ("timeout", 0), ("timeout", -1), ("cache_ttl", float("inf")), ("cooldown", -5), ("max_stale", float("nan")),
    ("max_bytes", 10),
])
def test_bad_options_are_refused_when_the_client_is_built(option, value):
    with pytest.raises(ValueError, match=option):
        jwtkit.JWKSClient("https://auth.example/jwks", **{option: value})
