"""The in-process adapters of the two ports that span processes: the login rate limiter
(:class:`MemoryRateLimiter`, a sliding log per key) and the revocation feed
(:class:`LocalRevocationFeed`, this process's listeners only).

Every backend uses them when one process serves alone; the composition root
(:mod:`jwtkit.wiring`) swaps in the Redis or database ones for several processes.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from jwtkit.auth.models import Denial
from jwtkit.auth.ports import FeedListener

from .listeners import ListenerSet

__all__ = ["LocalRevocationFeed", "MemoryRateLimiter"]


class _EventLog:
    """One key's events, oldest first (at most ``limit`` of them), and when the newest of them
    leaves its window (what :meth:`MemoryRateLimiter.purge` goes by)."""

    __slots__ = ("expires_at", "times")

    def __init__(self, limit: int) -> None:
        self.times: deque[float] = deque(maxlen=max(1, limit))
        self.expires_at = -math.inf


class MemoryRateLimiter:
    """A sliding log per key: the times of the latest ``limit`` events (one process only).

    At most ``max_keys`` keys are kept: past that the least recently used key is forgotten,
    in O(1) per attempt (a spray of distinct usernames cannot grow memory or slow each hit).
    A forgotten key's count restarts; an attacker who evicts a victim's key this way needs
    ``max_keys`` attempts, which the per-client limit spreads over that many addresses.
    """

    def __init__(self, *, max_keys: int = 100_000) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be >= 1")
        self._max_keys = max_keys
        self._events: OrderedDict[str, _EventLog] = OrderedDict()  # least recently used first

    def _live(self, key: str, now: float, window: float) -> deque[float] | None:
        entry = self._events.get(key)
        if entry is None:
            return None
        events = entry.times
        while events and events[0] <= now - window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    async def acquire(self, keys: Sequence[tuple[str, int]], *, now: float, window: float) -> float:
        return await self.acquire_windows([(key, limit, window) for key, limit in keys], now=now)

    async def acquire_windows(self, limits: Sequence[tuple[str, int, float]], *, now: float) -> float:
        # No await anywhere: the check and the record are one step under asyncio.
        limits = [(key, max(1, limit), window) for key, limit, window in limits]  # as Redis and SQL read a limit < 1
        wait = 0.0
        for key, limit, window in limits:
            events = self._live(key, now, window)
            if events is not None:
                self._events.move_to_end(key)
                if len(events) >= limit:
                    # Allowed again when the limit-th newest event leaves the window.
                    wait = max(wait, events[len(events) - limit] + window - now)
        if wait > 0:
            return wait
        for key, limit, window in limits:
            entry = self._events.get(key)
            if entry is None:
                entry = self._events[key] = _EventLog(limit)
            elif entry.times.maxlen is not None and entry.times.maxlen < limit:
                entry.times = deque(entry.times, maxlen=limit)  # a larger limit must not drop events
            entry.times.append(now)
            entry.expires_at = max(entry.expires_at, now + window)
        while len(self._events) > self._max_keys:
            self._events.popitem(last=False)
        return 0.0

    async def release(self, key: str, *, now: float) -> None:
        entry = self._events.get(key)
        if entry is not None and now in entry.times:
            entry.times.remove(now)

    async def reset(self, key: str) -> None:
        self._events.pop(key, None)

    async def purge(self, *, now: float) -> int:
        """Drop every key none of whose events is still in its window (or that has none left
        after ``release``); return how many events went with them. A key that still has a live
        event keeps its dead ones until its next ``acquire`` drops them (they never count)."""
        dead = [key for key, entry in self._events.items() if entry.expires_at <= now or not entry.times]
        return sum(len(self._events.pop(key).times) for key in dead)


class LocalRevocationFeed:
    """A revocation feed that reaches the listeners of this process only (single-process
    deployments and tests that open several services in one process)."""

    def __init__(self) -> None:
        self._listeners = ListenerSet()

    def subscribe(self, listener: FeedListener) -> Callable[[], None]:
        return self._listeners.subscribe(listener)

    def is_fresh(self, max_staleness: float) -> bool:
        """Always: every listener is in this process and told at once."""
        return True

    async def publish_denials(self, denials: Sequence[Denial]) -> None:
        self._listeners.deliver_denials(denials)

    async def publish_keys_changed(self) -> None:
        self._listeners.deliver_keys_changed()
