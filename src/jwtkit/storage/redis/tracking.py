"""``TrackedReads``: a bounded local copy of the values :class:`~.resp.RespGet` read, kept true by
Redis's client-side-caching invalidations (``CLIENT TRACKING``, default mode).

Why: a session read that finds its value here costs no round trip (the ``GET``'s await on the
socket is most of what ``/session/me`` costs beyond ``/health``).

Why it is safe (the reasoning the code relies on; :mod:`.resp` does the wire side):

- Tracking runs on the very connection that sends the ``GET`` s, in RESP3 (``HELLO 3``), so Redis's
  invalidation pushes arrive on that connection, in order with the replies. An entry is kept when
  its reply is *parsed* (not when its caller resumes), so an invalidation that follows the reply on
  the wire always removes it; one that precedes it concerns a write Redis made before the read,
  whose reply is then already fresh. (With ``REDIRECT`` to a second connection the two streams race;
  one connection has no race to handle.)
- Entries are served only while tracking is *known-good*: from the moment ``CLIENT TRACKING ON`` is
  answered until anything that may lose a push (the connection dropped, killed, timed out, a
  protocol error, the client closed): :meth:`lose` then empties the cache and reads go to Redis
  until a new connection has tracking on again. A ``null`` invalidation (``FLUSHALL``/``FLUSHDB``)
  empties it too.
- Entries are served only while the connection has proven itself within ``max_lag`` seconds: the
  latest parsed reply answered a command sent at most ``max_lag`` ago (``synced_at``). A hit adds no
  traffic, so a connection that silently stopped delivering (a network partition, a hung Redis)
  would otherwise keep serving what it cached; past ``max_lag`` reads go to Redis, whose reply
  proves the link again (or whose timeout closes it). Every invalidation for a write Redis made
  before that command was parsed before its reply, so a hit never misses a write older than
  ``max_lag`` (normally an invalidation lands within a round trip).
- The owner's own writes go through another connection; :meth:`forget` drops their keys at once
  and bumps ``epoch``: a reply to a ``GET`` sent before it (possibly read before the write) is then
  not kept.
- Only values are kept, not misses: a miss costs a round trip, and remembering misses would let
  random session ids fill the cache and evict live sessions.
- At most ``max_entries``: the oldest entry goes first. Redis still tracks the keys this client
  read (its own table, ``tracking-table-max-keys``; when it evicts one it sends its invalidation).

``inflight`` maps a key to the one ``GET`` in flight for it (concurrent misses of one key share
it); an invalidation, a :meth:`forget` or :meth:`lose` drops it, so no later reader joins a read
that began before the change.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable

__all__ = ["TrackedReads"]


class TrackedReads:
    """The cache :class:`~.resp.RespGet` fills and Redis's invalidations empty (see the module docstring).

    Example::

        reader = RespGet.from_url("redis://127.0.0.1:6379/0", cache=TrackedReads(max_entries=10_000))
        value = await reader.get_cached(b"jwtkit:session:…")   # a round trip only the first time
    """

    def __init__(self, *, max_entries: int = 10_000, max_lag: float = 1.0) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1 (pass no cache to have none)")
        self.max_entries = max_entries
        self.max_lag = max_lag
        self.tracking = False  # known-good: CLIENT TRACKING ON answered on the live connection
        self.synced_at = float("-inf")  # the loop time the latest answered command was sent at
        self.epoch = 0  # bumped by every forget/lose: replies to GETs sent before are not kept
        self.inflight: dict[bytes, asyncio.Future[bytes | None]] = {}
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def usable(self, now: float) -> bool:
        """Whether entries may be served at loop time ``now``: tracking is on and recently proven."""
        return self.tracking and now - self.synced_at <= self.max_lag

    def lookup(self, key: bytes) -> bytes | None:
        """The kept value of ``key`` (the caller checked :meth:`usable`), ``None`` if none is kept."""
        return self._entries.get(key)

    def keep(self, key: bytes, value: bytes, epoch: int) -> None:
        """Keep a ``GET`` reply, as it is parsed, unless something was forgotten since it was sent."""
        if self.tracking and epoch == self.epoch:
            entries = self._entries
            entries[key] = value
            if len(entries) > self.max_entries:
                entries.popitem(last=False)

    def invalidate(self, keys: Iterable[bytes] | None) -> None:
        """Redis's invalidation push: these keys changed; ``None``: every key (a flush)."""
        if keys is None:
            self._entries.clear()
            self.inflight.clear()
            return
        for key in keys:
            self._entries.pop(key, None)
            self.inflight.pop(key, None)

    def forget(self, keys: Iterable[bytes]) -> None:
        """The owner wrote these keys: drop them now, and keep no reply to a ``GET`` sent before."""
        self.epoch += 1
        for key in keys:
            self._entries.pop(key, None)
            self.inflight.pop(key, None)

    def lose(self) -> None:
        """Tracking may have lost a push: serve nothing until a connection has it on again."""
        self.tracking = False
        self.synced_at = float("-inf")
        self.epoch += 1
        self._entries.clear()
        self.inflight.clear()
