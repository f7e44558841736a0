"""``DatabasePollingFeed``: the :class:`~jwtkit.auth.ports.RevocationFeed` port across the
processes of one database, without Redis (every ``jwtkit serve`` on SQLite or PostgreSQL
without ``--redis``: a process cannot know whether it is alone on its database).

Every ``interval`` seconds (0.1 by default) it asks the database for the denylist entries
written in the last ``overlap`` seconds before its previous poll, and for the signing keys;
it hands the entries to its listeners and calls ``on_keys_changed`` when the keys differ.
Entries are keyed by the revoking process's clock (``denylist.created_at``), read once its
transaction holds its locks (so a wait for SQLite's lock, up to its 10 s busy_timeout, is not
a gap); ``overlap`` (5 s) covers the last statement before the commit and clock skew between
machines. Listeners in this process are told at once when something is published here.
The server gives the feed a :class:`~jwtkit.storage.reader_thread.ReaderThread` to read
through, so a saturated event loop cannot starve the polls.

Staleness bound: a revocation committed by another process reaches this one at the first
poll that starts after the commit: within ``interval`` plus one poll's duration (typically
a few milliseconds), provided the clocks agree within ``overlap`` (anything beyond that is
caught by the service's periodic reload, ``AuthService.run_maintenance``).

Health: ``is_fresh(s)`` is true while the last successful poll *started* at most ``s``
seconds ago. After a failed poll the next one first asks the listeners to resynchronise
(``on_resync``: a full reload); only when that succeeds does the feed become fresh again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from jwtkit.auth.background import cancel_until_done
from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.models import Denial, SigningKeyRecord
from jwtkit.auth.ports import FeedListener

from .listeners import ListenerSet

__all__ = ["DatabasePollingFeed"]

log = logging.getLogger(__name__)


class DenialReads(Protocol):
    """What the feed reads of a ``TokenStore``."""

    async def denials_since(self, since: float, *, now: float) -> list[Denial]: ...


class KeyReads(Protocol):
    """What the feed reads of a ``KeyStore``."""

    async def signing_keys(self) -> list[SigningKeyRecord]: ...


class DatabasePollingFeed:
    """Revocations and key rotations, learnt by polling the shared database.

    Example::

        feed = DatabasePollingFeed(stores.tokens, stores.keys, interval=0.1)
        await feed.start()              # first poll; ServiceUnavailableError if it fails
        unsubscribe = feed.subscribe(listener)
        feed.is_fresh(1.0)              # False once no poll has succeeded for a second
        await feed.close()
    """

    def __init__(
        self,
        tokens: DenialReads,
        keys: KeyReads,
        *,
        interval: float = 0.1,
        overlap: float = 5.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not interval > 0 or not overlap >= 0:
            raise ValueError("interval must be > 0 and overlap >= 0")
        self._tokens = tokens
        self._keys = keys
        self._interval = interval
        self._overlap = overlap
        self._clock = clock
        self._monotonic = monotonic
        self._listeners = ListenerSet()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._cursor: float | None = None  # wall-clock start of the last successful poll
        self._last_healthy_at: float | None = None  # monotonic start of the last successful poll
        self._keys_seen: tuple[tuple[str, float | None, float | None], ...] | None = None
        self._needs_resync = False
        self._failing = False

    def is_fresh(self, max_staleness: float) -> bool:
        """True while the last successful poll started at most ``max_staleness`` s ago."""
        if self._closed or self._last_healthy_at is None:
            return False
        return self._monotonic() - self._last_healthy_at <= max_staleness

    def subscribe(self, listener: FeedListener) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    async def publish_denials(self, denials: Sequence[Denial]) -> None:
        """Tell this process's listeners (other processes read the database)."""
        self._listeners.deliver_denials(denials)

    async def publish_keys_changed(self) -> None:
        """Tell this process's listeners (other processes read the database)."""
        self._listeners.deliver_keys_changed()

    async def start(self) -> None:
        """Poll once (so the feed is fresh), then keep polling in a background task.

        Raises:
            ServiceUnavailableError: the first poll failed (nothing is left running).
            RuntimeError: started twice, or after ``close()``.
        """
        if self._task is not None or self._closed:
            raise RuntimeError("DatabasePollingFeed.start() called twice or after close()")
        await self.poll()
        self._task = asyncio.create_task(self._run(), name="jwtkit-polling-feed")

    async def close(self) -> None:
        """Stop polling and forget the listeners. Idempotent."""
        self._closed = True
        self._listeners.clear()
        task, self._task = self._task, None
        if task is not None:
            await cancel_until_done(task)

    async def poll(self) -> None:
        """One round: resync the listeners if a poll failed before, then fetch recent denials
        and the keys. On success the feed is fresh as of this round's start.

        Raises:
            ServiceUnavailableError: the database (or a listener's resync) failed.
        """
        started_wall, started = self._clock(), self._monotonic()
        try:
            if self._needs_resync:
                await self._listeners.resync()
            since = (started_wall if self._cursor is None else self._cursor) - self._overlap
            denials = await self._tokens.denials_since(since, now=started_wall)
            records = await self._keys.signing_keys()
        except BaseException:
            self._needs_resync = True
            raise
        keys_seen = tuple((r.kid, r.retired_at, r.not_after) for r in records)
        if denials:
            self._listeners.deliver_denials(denials)
        if self._keys_seen is not None and keys_seen != self._keys_seen:
            self._listeners.deliver_keys_changed()
        self._keys_seen = keys_seen
        self._cursor = started_wall
        self._last_healthy_at = started
        self._needs_resync = False

    async def _run(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._interval)
            try:
                await self.poll()
            except Exception as exc:
                if not self._failing:
                    log.warning("revocation feed: polling the database failed (%r); retrying every %s s",
                                exc if not isinstance(exc, ServiceUnavailableError) else exc.__cause__,
                                self._interval)
                self._failing = True
            else:
                if self._failing:
                    log.warning("revocation feed: polling the database works again; listeners resynchronised")
                self._failing = False
