"""Publishing this process's changes to the revocation feed: retried in the background until
they go through, and marked so that their local echo is not applied a second time.

Every feed tells this process's listeners at once, synchronously, inside ``publish_*`` (then
the other processes). The process that made a change has already applied it, so
:class:`~.listener.RevocationListener` asks :meth:`FeedPublisher.is_echo_of_denials` and
:meth:`FeedPublisher.take_keys_echo` and skips what it published itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence

from .background import BackgroundTasks
from .models import Denial
from .ports import RevocationFeed

__all__ = ["FeedPublisher"]

log = logging.getLogger(__name__)

_RETRY_FIRST, _RETRY_MAX = 0.1, 1.0  # seconds between tries of a failed feed publish


class FeedPublisher:
    """Sends feed messages for the use cases that change revocations or keys."""

    def __init__(self, feed: RevocationFeed, tasks: BackgroundTasks) -> None:
        self._feed = feed
        self._tasks = tasks
        self._own_denials: Sequence[Denial] | None = None  # being published now (identity, not equality)
        self._own_keys_change = False  # a keys-changed message being published now, echo not yet seen

    async def denials(self, denials: Sequence[Denial]) -> None:
        """Publish ``denials`` (already applied here)."""
        self._own_denials = denials
        try:
            await self._publish(functools.partial(self._feed.publish_denials, denials))
        finally:
            self._own_denials = None

    async def keys_changed(self) -> None:
        """Publish that the signing keys changed (this process's ring is already reloaded)."""
        self._own_keys_change = True
        try:
            await self._publish(self._feed.publish_keys_changed)
        finally:
            self._own_keys_change = False

    def is_echo_of_denials(self, denials: Sequence[Denial]) -> bool:
        """Whether ``denials`` is the very message this process is publishing."""
        return denials is self._own_denials

    def take_keys_echo(self) -> bool:
        """Whether a keys-changed message is this process's own (true once per publish)."""
        own, self._own_keys_change = self._own_keys_change, False
        return own

    async def _publish(self, send: Callable[[], Awaitable[None]]) -> None:
        """Send a feed message; if that fails, keep retrying it in the background until it goes
        through (or the service closes). The database already holds the change, so a failure only
        delays other processes: by the retry backoff (at most ``_RETRY_MAX`` s between tries) once
        the feed works again. While Redis is down the other workers' feeds are stale too, and they
        fail closed (``revocation_max_staleness``); only if this process dies before a retry
        succeeds do they wait for their maintenance reload."""
        try:
            await send()
        except Exception as exc:
            log.warning("could not publish to the revocation feed (%r); retrying in the background",
                        exc.__cause__ or exc)
            self._tasks.spawn(self._publish_until_sent(send))

    async def _publish_until_sent(self, send: Callable[[], Awaitable[None]]) -> None:
        delay = _RETRY_FIRST
        while True:
            await asyncio.sleep(delay)
            try:
                await send()
            except Exception:
                delay = min(delay * 2, _RETRY_MAX)
            else:
                log.warning("revocation feed: a delayed message was published")
                return
