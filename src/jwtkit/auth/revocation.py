"""One process's view of the denylist: denied access-token ``jti``s and refresh families, each
until the ``exp`` of the last access token it can deny, plus the freshness guard that decides
what to do when the revocation feed may be missing revocations made by other processes.

The view only grows by ``apply`` (from this process, the feed, or a reload from the database)
and shrinks by ``expire``; applying an entry twice is harmless, and a reload merges (it never
forgets an entry the database lost, e.g. one purged early).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from .errors import ServiceUnavailableError
from .models import Denial
from .ports import RevocationFeed
from .settings import AuthSettings

__all__ = ["RevocationView"]

log = logging.getLogger(__name__)


class RevocationView:
    """The in-memory denylist and the fail-closed rule (``check_fresh``)."""

    def __init__(
        self, feed: RevocationFeed, settings: AuthSettings, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._feed = feed
        self._max_staleness = settings.revocation_max_staleness
        self._fail_open = settings.revocation_fail_open
        self._monotonic = monotonic
        self._jtis: dict[str, float] = {}  # jti -> exp
        self._families: dict[str, float] = {}  # family id -> exp of its last access token
        self._stale_since: float | None = None  # monotonic time the current outage was noticed

    def __len__(self) -> int:
        return len(self._jtis) + len(self._families)

    def apply(self, denials: Iterable[Denial]) -> None:
        """Add entries; an existing one keeps the later expiry."""
        for denial in denials:
            table = self._jtis if denial.kind == "jti" else self._families
            if table.get(denial.value, 0.0) < denial.expires_at:
                table[denial.value] = denial.expires_at

    def jti_denied(self, jti: str) -> bool:
        return jti in self._jtis

    def family_denied(self, family_id: str) -> bool:
        return family_id in self._families

    def expire(self, *, now: float) -> int:
        """Drop entries whose tokens have all expired; return how many went."""
        dropped = 0
        for table in (self._jtis, self._families):
            dead = [value for value, expires_at in table.items() if expires_at <= now]
            for value in dead:
                del table[value]
            dropped += len(dead)
        return dropped

    def check_fresh(self) -> None:
        """Raise ``ServiceUnavailableError`` when the feed has been out of sync for longer than
        ``revocation_max_staleness`` (unless ``revocation_fail_open``): the token may have been
        revoked elsewhere, and the client should retry rather than log in again. Logs once per
        outage, and once when it ends. A cheap in-memory check: called per request."""
        if self._feed.is_fresh(self._max_staleness):
            if self._stale_since is not None:
                log.warning("revocation feed is in sync again after %.1f s; %s", self._monotonic() - self._stale_since,
                            "the denylist is current" if self._fail_open else "accepting access tokens again")
                self._stale_since = None
            return
        if self._stale_since is None:
            self._stale_since = self._monotonic()
            if self._fail_open:
                log.warning("revocation feed out of sync for over %s s: FAILING OPEN (revocation_fail_open): the "
                            "denylist may be stale, a token revoked by another process may still be accepted",
                            self._max_staleness)
            else:
                log.error("revocation feed out of sync for over %s s: failing closed, refusing every access token "
                          "until it recovers (set revocation_fail_open to keep serving unrevoked tokens)",
                          self._max_staleness)
        if not self._fail_open:
            raise ServiceUnavailableError("revocation state is stale (feed out of sync); failing closed")
