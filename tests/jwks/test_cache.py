"""The JWKS clients' shared decisions (``jwtkit.jwks.cache.KeySetCache``), on plain numbers."""

from __future__ import annotations

import pytest

import jwtkit
from jwtkit.jwks.cache import KeySetCache
from jwtkit.jwks.source import check_options


def cache(**options: float) -> KeySetCache:
    settings = {"timeout": 5.0, "cache_ttl": 300, "cooldown": 30, "max_stale": 86400, "max_bytes": 65536} | options
    return KeySetCache("https://auth.example/jwks", check_options(**settings))  # type: ignore[arg-type]


def test_before_any_fetch_nothing_is_usable_and_retry_after_is_one_second():
    with pytest.raises(jwtkit.JWKSUnavailableError, match="not fetched yet") as caught:
        cache().usable(0.0)
    assert caught.value.retry_after == 1


def test_retry_after_counts_down_the_cooldown_after_a_failure():
    state = cache(cooldown=30)
    state.failed("HTTP 500", now=100.0)
    with pytest.raises(jwtkit.JWKSUnavailableError) as caught:
        state.usable(110.5)
    assert caught.value.retry_after == 20


def test_an_unknown_kid_may_fetch_once_per_cooldown():
    state = cache(cooldown=30)
    state.succeeded(jwtkit.KeySet([jwtkit.Key.generate("ES256", kid="a").public_key()]), None, now=0.0)
    assert state.begin(1.0, "b") is True
    assert state.begin(2.0, "c") is False
    assert state.begin(2.0, "a") is False  # known: nothing to fetch
    assert state.begin(31.5, "c") is True


@pytest.mark.parametrize(("header", "seconds"), [
    ("public, max-age=60", 60.0), ("max-age=0", 0.0), ('max-age="120"', 120.0), ("MAX-AGE = 5", 5.0),
    ("no-store", 0.0), ("private, no-cache", 0.0), ("s-maxage=10", None), ("max-age=abc", None), ("", None),
])
def test_cache_control_max_age(header, seconds):
    from jwtkit.jwks.source import max_age_of

    assert max_age_of({"cache-control": header}) == seconds
