"""The decisions a JWKS client makes, apart from how it fetches and how it waits: when the
cached set is fresh, when a fetch may happen (cache expiry, an unknown ``kid`` at most once per
cooldown, a failed endpoint at most once per cooldown), what a failure leaves (the last good
set, up to ``max_stale`` seconds old), and one warning per failure streak.

Time is a parameter (``now``, from the client's clock), so tests never sleep for a cooldown.
The caller serialises ``begin``/``succeeded``/``failed`` (a lock); ``fresh`` and ``usable`` are
lock-free reads of one reference each.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from jwtkit.core.keyset import KeySet

from .errors import JWKSUnavailableError
from .source import Options

log = logging.getLogger("jwtkit.jwks")


@dataclass(frozen=True, slots=True)
class _Held:
    keyset: KeySet
    fetched_at: float
    fresh_until: float


class KeySetCache:
    """The state of one JWKS URL: the last good set and the fetch schedule."""

    __slots__ = ("_failing", "_held", "_kid_fetch_at", "_last_error", "_options", "_retry_at", "_url", "generation")

    def __init__(self, url: str, options: Options) -> None:
        self._url = url
        self._options = options
        self._held: _Held | None = None
        self._retry_at = -math.inf  # after a failed fetch: no fetch before this
        self._kid_fetch_at = -math.inf  # no fetch for an unknown kid before this
        self._failing = False
        self._last_error = "not fetched yet"
        self.generation = 0  # counts finished fetches: a waiter that sees it move fetches no more

    def fresh(self, now: float) -> KeySet | None:
        """The cached set while it is fresh (the hot path), else None."""
        held = self._held
        if held is not None and now < held.fresh_until:
            return held.keyset
        return None

    def usable(self, now: float) -> KeySet:
        """The cached set, fresh or up to ``max_stale`` seconds old.

        Raises:
            JWKSUnavailableError: there is none, or it is too old.
        """
        held = self._held
        if held is not None and now - held.fetched_at <= self._options.max_stale:
            return held.keyset
        reason = self._last_error
        if held is not None:
            age = now - held.fetched_at
            reason += f" (the last good set is {age:.0f} s old, max_stale is {self._options.max_stale:g} s)"
        wait = self._retry_at - now  # -inf before any failure
        raise JWKSUnavailableError(self._url, reason, retry_after=math.ceil(wait) if wait > 1 else 1)

    def begin(self, now: float, kid: str | None) -> bool:
        """Whether to fetch now: for an expired cache (``kid`` None) or for a ``kid`` the cached
        set lacks. Counts the attempt against the cooldown when it says yes."""
        if now < self._retry_at:
            return False
        held = self._held
        if kid is None:
            return held is None or now >= held.fresh_until
        if held is not None and kid in held.keyset:
            return False
        if now < self._kid_fetch_at:
            return False
        self._kid_fetch_at = now + self._options.cooldown
        return True

    def succeeded(self, keyset: KeySet, max_age: float | None, now: float) -> None:
        options = self._options
        ttl = options.cache_ttl
        if max_age is not None and max_age < ttl:
            ttl = max(max_age, min(options.cooldown, ttl))  # a short max-age never means a fetch per token
        self._held = _Held(keyset, now, now + ttl)
        self._retry_at = -math.inf
        self.generation += 1
        if self._failing:
            self._failing = False
            log.info("JWKS %s answers again with %d key(s)", self._url, len(keyset))

    def failed(self, reason: str, now: float) -> None:
        self._last_error = reason
        self._retry_at = now + self._options.cooldown
        self.generation += 1
        if not self._failing:
            self._failing = True
            held = self._held
            serving = (f"serving the set fetched {now - held.fetched_at:.0f} s ago (for up to "
                       f"{self._options.max_stale:g} s)" if held is not None else "no key set to serve")
            log.warning("JWKS %s fetch failed: %s; %s; next try in %g s",
                        self._url, reason, serving, self._options.cooldown)
