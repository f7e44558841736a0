"""``Maintenance``: keeps storage and memory bounded — purge what expired — and resyncs the
revocation view and key ring from the database, once or in a background loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .background import BackgroundTasks
from .listener import RevocationListener
from .ports import Stores
from .revocation import RevocationView
from .signing import SigningKeys

__all__ = ["Maintenance"]

log = logging.getLogger(__name__)


class Maintenance:
    """Purges expired rows and resyncs, on demand or every ``interval`` seconds."""

    def __init__(self, stores: Stores, keys: SigningKeys, view: RevocationView, listener: RevocationListener,
                 tasks: BackgroundTasks, clock: Callable[[], float]) -> None:
        self._stores = stores
        self._keys = keys
        self._view = view
        self._listener = listener
        self._tasks = tasks
        self._clock = clock

    async def purge_expired(self) -> int:
        """See ``AuthService.purge_expired``."""
        now = self._clock()
        deleted = await self._stores.tokens.purge_tokens(now=now)
        deleted += await self._stores.sessions.purge_sessions(now=now)
        deleted += await self._stores.rate_limiter.purge(now=now)
        deleted += await self._keys.purge(now=now)
        self._view.expire(now=now)
        return deleted

    async def run(self, *, interval: float, purge: Callable[[], Awaitable[int]] | None = None) -> None:
        """See ``AuthService.run_maintenance``; ``purge`` replaces :meth:`purge_expired` (the
        facade passes its own method, so that whoever wraps it wraps what the loop calls)."""
        if not interval > 0:
            raise ValueError("interval must be > 0")
        purge = purge or self.purge_expired
        while True:
            await asyncio.sleep(interval)
            try:
                purged = await purge()
                await self._listener.on_resync()
            except Exception:
                log.exception("maintenance failed; retrying in %s s", interval)
            else:
                log.debug("maintenance: purged %d expired rows; %d live denials in memory", purged, len(self._view))

    def start(self, *, interval: float, purge: Callable[[], Awaitable[int]] | None = None) -> None:
        """Run :meth:`run` as a background task (needs a running event loop)."""
        self._tasks.spawn(self.run(interval=interval, purge=purge))
