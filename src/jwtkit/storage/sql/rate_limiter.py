"""``SqlRateLimiter``: the :class:`~jwtkit.auth.ports.RateLimiter` port in the database, for
processes that share one database without Redis: a sliding log per key, one row per event in
``login_attempts`` (schema version 4).

Same behaviour as :class:`jwtkit.storage.memory.MemoryRateLimiter` (the reference): an event
counts while it is newer than ``now - window``. Times go in and come out as the same doubles
and the arithmetic on them is done here in Python, as in the reference, so the answers match it
exactly.

``acquire`` reads a key's events and records the new one in one transaction that holds, from
before its read until its commit, a lock every other ``acquire`` of that key needs: so of any
number of concurrent attempts, in any number of processes, at most ``limit`` get through.

- PostgreSQL: a transaction-level advisory lock per key, taken in one order (by lock id) so two
  attempts on overlapping keys cannot deadlock.
- SQLite: the database's single write lock, taken by the transaction's first statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .engine import rowcount, unavailable_on_failure
from .schema import login_attempts

__all__ = ["SqlRateLimiter", "stored_key", "wait_for"]

_KEY_LENGTH = 255  # login_attempts.key is a String(255)
_DIGEST_PREFIX = "sha256:"

# pg_advisory_xact_lock(int4, int4): the two-int form lives in its own lock space (pg_locks
# objsubid 2), apart from the one-bigint locks of schema.py (7411046001) and store.py (7411046002),
# so no key can ever collide with those. The first int names this limiter, the second the key.
_LOCK_SPACE = 7411046
# unnest returns the ids in array order and the lock is taken row by row in that order: the
# caller passes them sorted (one order for every transaction: no lock-order deadlock).
_LOCK_KEYS = sa.text(
    "SELECT pg_advisory_xact_lock(:space, lock_id) FROM unnest(CAST(:lock_ids AS integer[])) AS lock_id"
)


def stored_key(key: str) -> str:
    """The ``login_attempts.key`` of a limiter key: the key itself when it fits the column and can
    be stored as text; otherwise (longer than 255 characters, a NUL that PostgreSQL text cannot
    hold, a lone surrogate that UTF-8 cannot encode) ``sha256:`` and the hex digest of its UTF-8
    bytes, surrogates passed through. A key that itself starts with ``sha256:`` is digested too,
    so no key can pose as another one's digest: distinct keys never share a count."""
    if len(key) <= _KEY_LENGTH and "\x00" not in key and not key.startswith(_DIGEST_PREFIX) and _encodable(key):
        return key
    return _DIGEST_PREFIX + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _encodable(key: str) -> bool:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lock_id(stored: str) -> int:
    """The key's half of its advisory lock: 32 bits of its SHA-256. Two keys that share one only
    wait for each other now and then; they still count apart."""
    return int.from_bytes(hashlib.sha256(stored.encode("utf-8")).digest()[:4], "big", signed=True)


def wait_for(entries: Sequence[tuple[str, int, float]], rows: Sequence[tuple[str, float]], *, now: float) -> float:
    """Seconds until every ``(stored key, limit, window)`` of ``entries`` allows one more event,
    given the live events ``rows`` (``(stored key, at)`` in time order); 0 when all do now."""
    events: dict[str, list[float]] = {}
    for key, at in rows:
        events.setdefault(key, []).append(at)
    wait = 0.0
    for name, limit, window in entries:
        times = [at for at in events.get(name, []) if at > now - window]  # the reference's arithmetic
        if len(times) >= limit:
            # Allowed again when the limit-th newest event leaves the window.
            wait = max(wait, times[len(times) - limit] + window - now)
    return wait


class SqlRateLimiter:
    """A sliding-window counter per key, shared by every process on the database.

    ``now`` comes from the caller's wall clock (the service's ``clock``), so the processes'
    clocks should agree to well within the window. An event's row lives until ``purge`` runs
    after it left its window (the service's maintenance does); ``acquire`` also drops the dead
    events of the keys it touches.

    Example::

        limiter = SqlRateLimiter(engine)
        wait = await limiter.acquire([("user:alice", 5), ("client:203.0.113.7", 20)], now=time.time(), window=300)

    Raises (every method):
        ServiceUnavailableError: the database is unreachable or failing.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._postgresql = engine.dialect.name == "postgresql"
        # READ COMMITTED whatever the server's default: each statement then reads what was
        # committed before it started, i.e. (after the lock statement) everything committed by
        # the previous holder of the key's lock. Under REPEATABLE READ the snapshot would date
        # from the lock statement's start, before the wait, and miss the holder's events.
        self._engine = engine.execution_options(isolation_level="READ COMMITTED") if self._postgresql else engine

    async def acquire(self, keys: Sequence[tuple[str, int]], *, now: float, window: float) -> float:
        return await self.acquire_windows([(key, limit, window) for key, limit in keys], now=now)

    async def acquire_windows(self, limits: Sequence[tuple[str, int, float]], *, now: float) -> float:
        entries = [(stored_key(key), max(1, limit), window) for key, limit, window in limits]
        windows: dict[str, float] = {}
        for name, _, window in entries:
            windows[name] = max(window, windows.get(name, window))
        names = sorted(windows)
        attempt = login_attempts.c
        dead = login_attempts.delete().where(
            sa.or_(*(sa.and_(attempt.key == name, attempt.at <= now - windows[name]) for name in names))
        )
        live = (
            sa.select(attempt.key, attempt.at)
            .where(attempt.key.in_(names), attempt.at > now - max(windows.values()))
            .order_by(attempt.key, attempt.at, attempt.id)
        )
        async with unavailable_on_failure("rate limiter acquire"), self._engine.begin() as conn:
            if self._postgresql:
                await self._lock(conn, names)
                # The lock is its own statement: a statement reads from a snapshot taken when it
                # starts, so reading in the locking statement could miss what the previous holder
                # committed while this one waited. Dropping the dead events rides along (the
                # SELECT does not see that DELETE; each key's cutoff below skips them anyway).
                rows = (await conn.execute(live.add_cte(dead.cte("dead")))).all()
            else:
                # The first statement writes, so the transaction (a deferred BEGIN) takes the
                # write lock before it reads anything, waiting for it up to busy_timeout; in WAL
                # mode its snapshot is then taken with the lock held, so it sees every committed
                # attempt and no other writer can commit until this one does. (A transaction that
                # read first would carry an older snapshot into its write and fail with
                # SQLITE_BUSY at once instead of waiting.)
                await conn.execute(dead)
                rows = (await conn.execute(live)).all()
            wait = wait_for(entries, [(row.key, row.at) for row in rows], now=now)
            if wait > 0:
                return wait
            await conn.execute(
                login_attempts.insert().values([{"key": name, "at": now, "expires_at": now + windows[name]}
                                                for name in names])
            )
        return 0.0

    async def _lock(self, conn: AsyncConnection, names: Sequence[str]) -> None:
        """Take the advisory lock of every key, until the transaction ends, in ascending lock id."""
        lock_ids = sorted({_lock_id(name) for name in names})
        await conn.execute(_LOCK_KEYS, {"space": _LOCK_SPACE, "lock_ids": lock_ids})

    async def release(self, key: str, *, now: float) -> None:
        attempt = login_attempts.c
        # One event at exactly `now`. On PostgreSQL two concurrent releases of one key and time
        # must not both pick the same row (one would then release nothing): SKIP LOCKED makes the
        # second take the next such row. (SQLite renders no FOR UPDATE: it has one writer.)
        one = (
            sa.select(attempt.id)
            .where(attempt.key == stored_key(key), attempt.at == now)
            .order_by(attempt.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with unavailable_on_failure("rate limiter release"), self._engine.begin() as conn:
            await conn.execute(login_attempts.delete().where(attempt.id == one))

    async def reset(self, key: str) -> None:
        async with unavailable_on_failure("rate limiter reset"), self._engine.begin() as conn:
            await conn.execute(login_attempts.delete().where(login_attempts.c.key == stored_key(key)))

    async def purge(self, *, now: float) -> int:
        """Delete every event whose window has passed (``expires_at <= now``); return how many."""
        async with unavailable_on_failure("rate limiter purge"), self._engine.begin() as conn:
            deleted = await conn.execute(login_attempts.delete().where(login_attempts.c.expires_at <= now))
        return rowcount(deleted)
