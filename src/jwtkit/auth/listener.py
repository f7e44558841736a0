"""``RevocationListener``: keeps this process's revocation view and key ring in step with the
revocation feed (the :class:`~.ports.FeedListener` the service subscribes). Messages this
process published itself were applied when they were made and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .models import Denial
from .ports import TokenStore
from .publishing import FeedPublisher
from .revocation import RevocationView
from .signing import SigningKeys

__all__ = ["RevocationListener"]


class RevocationListener:
    """Applies the feed's messages to the view and the key ring."""

    def __init__(self, view: RevocationView, keys: SigningKeys, tokens: TokenStore, publisher: FeedPublisher,
                 clock: Callable[[], float]) -> None:
        self._view = view
        self._keys = keys
        self._tokens = tokens
        self._publisher = publisher
        self._clock = clock

    def on_denials(self, denials: Sequence[Denial]) -> None:
        """Apply revocations made by another process."""
        if not self._publisher.is_echo_of_denials(denials):
            self._view.apply(denials)

    def on_keys_changed(self) -> None:
        """Another process changed the keys: reload the ring in the background."""
        if not self._publisher.take_keys_echo():
            self._keys.reload_soon()

    async def on_resync(self) -> None:
        """The feed may have missed messages: merge the database's live denylist into memory
        and reload the key ring (the Verifier is rebuilt only if the keys changed).

        Raises:
            ServiceUnavailableError: storage is down (the feed stays stale and retries).
        """
        now = self._clock()
        self._view.apply(await self._tokens.live_denials(now=now))
        self._view.expire(now=now)
        await self._keys.load(create=False)
