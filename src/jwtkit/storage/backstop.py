"""``BackstoppedFeed``: a fast revocation feed (Redis pub/sub) plus a slow poll of the database
that delivers whatever the fast one lost.

Pub/sub loses a message whenever its publisher cannot send it: the revoking process alone
lost Redis, or died before its background retry went through. Every subscriber is healthy
then, so none fails closed, and without a backstop they would learn of the revocation only at
their next full reload. With it they learn within ``interval`` (1 s by default) plus one
poll: the same database query the Redis-less deployments run (one indexed range read on
``denylist.created_at``), just less often. Key rotations made without the messenger (e.g.
``jwtkit keys rotate`` without ``--redis``) arrive the same way.

Freshness is the fast feed's: the poll is the backstop, not the bound the service fails closed
on. Delivering an entry twice is harmless (listeners apply denials idempotently).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jwtkit.auth.models import Denial
from jwtkit.auth.ports import FeedListener, RevocationFeed

__all__ = ["BackstoppedFeed"]


class BackstoppedFeed:
    """``primary`` for publishing and freshness; ``primary`` and ``backstop`` both deliver.

    Example::

        feed = BackstoppedFeed(redis_feed, DatabasePollingFeed(stores.tokens, stores.keys, interval=1.0))
    """

    def __init__(self, primary: RevocationFeed, backstop: RevocationFeed) -> None:
        self._primary = primary
        self._backstop = backstop
        # Asked on every request: the primary's own method, without a call through this one.
        self.is_fresh: Callable[[float], bool] = primary.is_fresh

    def subscribe(self, listener: FeedListener) -> Callable[[], None]:
        unsubscribe_primary = self._primary.subscribe(listener)
        unsubscribe_backstop = self._backstop.subscribe(listener)

        def unsubscribe() -> None:
            unsubscribe_primary()
            unsubscribe_backstop()

        return unsubscribe

    async def publish_denials(self, denials: Sequence[Denial]) -> None:
        """Publish on the primary (which also tells this process's listeners)."""
        await self._primary.publish_denials(denials)

    async def publish_keys_changed(self) -> None:
        await self._primary.publish_keys_changed()
