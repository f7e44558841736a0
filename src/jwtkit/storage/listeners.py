"""``ListenerSet``: the listeners of one revocation feed, and delivery to them.

Shared by every feed (local, database polling, Redis): a listener that raises is logged and
never keeps the message from the others.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence

from jwtkit.auth.models import Denial
from jwtkit.auth.ports import FeedListener

__all__ = ["ListenerSet"]

log = logging.getLogger(__name__)


class ListenerSet:
    """Subscribed :class:`~jwtkit.auth.ports.FeedListener`\\ s, in subscription order."""

    def __init__(self) -> None:
        self._listeners: list[FeedListener] = []

    def __len__(self) -> int:
        return len(self._listeners)

    def subscribe(self, listener: FeedListener) -> Callable[[], None]:
        """Add ``listener``; return a function that removes it (harmless to call twice)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def clear(self) -> None:
        self._listeners.clear()

    def deliver_denials(self, denials: Sequence[Denial]) -> None:
        for listener in list(self._listeners):
            try:
                listener.on_denials(denials)
            except Exception:
                log.exception("revocation feed: a listener's on_denials failed")

    def deliver_keys_changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener.on_keys_changed()
            except Exception:
                log.exception("revocation feed: a listener's on_keys_changed failed")

    async def resync(self) -> None:
        """Ask every listener to reload from the database (``on_resync``, awaited when it returns
        an awaitable). Raises what a listener raises: the feed then stays stale and retries."""
        for listener in list(self._listeners):
            on_resync = getattr(listener, "on_resync", None)
            if on_resync is None:
                continue
            result = on_resync()
            if inspect.isawaitable(result):
                await result
