"""The ports the auth service needs from storage: small async Protocols.

Adapters: :mod:`jwtkit.storage.memory` (the reference and test double) and
:mod:`jwtkit.storage.sql` (SQLite, PostgreSQL). Every adapter passes one contract suite
(``tests/storage/test_store_contract.py``).

Rules every adapter keeps:

- a failing backend raises :class:`~jwtkit.auth.errors.ServiceUnavailableError`, never its own
  exception type;
- each method that changes several rows does so in one transaction (all or nothing);
- ``spend_refresh`` is atomic: of any number of concurrent calls with one ``jti`` (in any
  number of processes) exactly one returns ``SpendResult.SPENT``; so is
  ``spend_refresh_for_user``, which spends only for a user who exists and is not disabled.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .models import Denial, RefreshRecord, SessionRecord, SigningKeyRecord, UserAccount, UserRecord


class UserStore(Protocol):
    async def create_user(self, username: str, password_hash: str, *, now: float) -> UserRecord:
        """Insert a user. Raises ``UsernameTakenError`` if the name exists."""
        ...

    async def get_user_by_name(self, username: str) -> UserRecord | None: ...

    async def get_user(self, user_id: int) -> UserRecord | None: ...

    async def set_password_hash(self, user_id: int, password_hash: str) -> None: ...

    # ---- accounts (schema version 8)
    async def record_login(self, user_id: int, *, now: float) -> None:
        """Remember ``now`` as the user's last successful login (no error for an unknown user)."""
        ...

    async def set_disabled(self, user_id: int, *, disabled_at: float | None) -> bool:
        """Disable the user from ``disabled_at`` on, or enable it again (``None``). False when
        there is no such user."""
        ...

    async def delete_user(self, user_id: int) -> bool:
        """Delete the user, its refresh tokens and families (not its denylist entries, which
        expire by themselves), in one transaction. False when there is no such user."""
        ...

    async def list_users(self, *, now: float) -> list[UserAccount]:
        """Every user, by id, with its live refresh families (unrevoked, unexpired at ``now``) counted."""
        ...


class SpendResult(enum.Enum):
    """What ``TokenStore.spend_refresh`` did."""

    SPENT = "spent"  # it was live; now spent and its successor stored
    REUSED = "reused"  # it had been spent before: a replay (RFC 9700 §4.14)
    REVOKED = "revoked"  # its family was revoked
    UNKNOWN = "unknown"  # no such jti (never issued, or purged), or expired


@dataclass(frozen=True, slots=True)
class UserSpend:
    """What ``TokenStore.spend_refresh_for_user`` found and did."""

    user: UserRecord | None
    """The user's row as the spend saw it; None: no such user (deleted)."""
    result: SpendResult | None
    """What spending did when the user exists and is not disabled; None otherwise (nothing was
    tried, nothing changed)."""


class TokenStore(Protocol):
    """Refresh-token families and the access-token denylist (kept together: one revocation
    touches both in one transaction)."""

    async def start_family(self, first: RefreshRecord) -> None:
        """Store a new refresh family (one login) and its first refresh token, in one transaction;
        the family remembers ``first.access_expires_at``."""
        ...

    async def get_refresh(self, jti: str) -> RefreshRecord | None:
        """The token, with ``revoked_at`` set when its family is revoked."""
        ...

    async def spend_refresh(self, jti: str, *, now: float, successor: RefreshRecord) -> SpendResult:
        """In one transaction: mark ``jti`` spent by ONE conditional update (unspent and
        unexpired; the row count decides), check its family is not revoked, store ``successor``
        and raise the family's latest access-token expiry to ``successor.access_expires_at``; the
        spent token remembers ``successor.jti`` (what :meth:`spent_successor` answers with).
        Anything but ``SPENT`` changes nothing."""
        ...

    async def spend_refresh_for_user(self, user_id: int, jti: str, *, now: float,
                                     successor: RefreshRecord) -> UserSpend:
        """What a refresh needs of storage, in one round trip where the backend can: read the user
        ``user_id``; only when it exists and is not disabled (``disabled_at`` None), do
        :meth:`spend_refresh`. A deleted or disabled user's token is never spent (``result`` None,
        nothing changed), so it can never buy a new pair. Atomic as :meth:`spend_refresh` is."""
        ...

    async def spent_successor(self, jti: str, *, spent_since: float) -> RefreshRecord | None:
        """The token that spending ``jti`` stored (with its ``access_jti`` and
        ``access_expires_at``), when ``jti`` was spent at or after ``spent_since`` and its family is
        not revoked; else None (unknown, unspent, spent earlier, revoked, or spent before schema
        version 7). One read: what a replay within ``refresh_reuse_grace`` is answered with."""
        ...

    async def revoke(self, *, family_ids: Sequence[str], denials: Sequence[Denial], now: float) -> list[Denial]:
        """In one transaction: mark ``family_ids`` revoked (no token of theirs can be spent
        again) and add ``denials`` to the denylist (an existing entry keeps the later ``expires_at``).
        A ``"family"`` denial lasts at least until that family's latest access token expires
        (whatever access TTL issued it). Returns the denials as written."""
        ...

    async def live_denials(self, *, now: float) -> list[Denial]:
        """Every denylist entry that has not expired (loaded into memory at start)."""
        ...

    async def denials_since(self, since: float, *, now: float) -> list[Denial]:
        """The unexpired entries written (added, or extended by ``revoke``) at a time >= ``since``:
        what a polling feed fetches. The write time is the later of ``revoke``'s ``now`` and the
        store's clock once the writing transaction holds its locks (so a writer that waited for a
        lock is not stamped in the past). Entries from before schema version 2 have no write
        time and appear only in :meth:`live_denials`."""
        ...

    async def purge_tokens(self, *, now: float) -> int:
        """Delete expired refresh tokens and denylist entries; return how many rows went."""
        ...

    async def live_families(self, user_id: int, *, now: float) -> list[str]:
        """The ids of the user's refresh families neither revoked nor expired at ``now``, sorted:
        what logging a user out everywhere revokes (with :meth:`revoke`)."""
        ...


class SessionStore(Protocol):
    async def add_session(self, record: SessionRecord) -> None: ...

    async def get_session(self, key_hash: str) -> SessionRecord | None: ...

    async def delete_session(self, key_hash: str) -> None: ...

    async def purge_sessions(self, *, now: float) -> int: ...

    async def delete_user_sessions(self, user_id: int) -> int:
        """Delete every cookie session of the user; return how many went."""
        ...


class KeyStore(Protocol):
    async def signing_keys(self) -> list[SigningKeyRecord]:
        """All stored signing keys, oldest first."""
        ...

    async def add_signing_key(self, record: SigningKeyRecord, *, retire_others_at: float | None,
                              not_after: float | None) -> None:
        """Insert ``record``; when ``retire_others_at`` is given, in the same transaction mark
        every other unretired key retired at that time, published until ``not_after``."""
        ...

    async def retire_signing_key(self, kid: str, *, now: float) -> int | None:
        """In one transaction: end the key ``kid`` at ``now`` (retired, ``not_after = now``: no
        longer trusted nor published) and revoke the live refresh families whose latest tokens it
        signed; return how many. ``None`` (and no change) when no live key has that ``kid``."""
        ...

    async def purge_signing_keys(self, *, now: float) -> int:
        """Delete retired keys whose ``not_after`` has passed."""
        ...

    async def server_secret(self, name: str, *, candidate: bytes, now: float) -> bytes:
        """The secret stored under ``name``; if there is none yet, store ``candidate`` and return
        it. Atomic: processes that start together all get the one secret that was stored first
        (what every worker derives a shared key from, e.g. for device cookies)."""
        ...


class RateLimiter(Protocol):
    """A sliding-window counter of attempts (logins) per key: in memory for one process; for
    several, in Redis (:class:`jwtkit.storage.redis.RedisRateLimiter`) or in the database they
    share (:class:`jwtkit.storage.sql.SqlRateLimiter`).

    An attempt is reserved BEFORE the work it limits (checking a password), in one atomic step
    that both checks and records: so of any number of concurrent attempts at most ``limit``
    per key get through, even across processes.
    """

    async def acquire(self, keys: Sequence[tuple[str, int]], *, now: float, window: float) -> float:
        """Atomically: when every ``(key, limit)`` has fewer than ``limit`` events newer than
        ``now - window``, record one event at ``now`` on each key and return 0; otherwise
        record nothing and return the seconds until every key would be under its limit."""
        ...

    async def acquire_windows(self, limits: Sequence[tuple[str, int, float]], *, now: float) -> float:
        """:meth:`acquire` with a window of its own per key: atomically, when every ``(key, limit,
        window)`` has fewer than ``limit`` events newer than ``now - window``, record one event at
        ``now`` on each key (kept for that key's window) and return 0; otherwise record nothing and
        return the seconds until every key would be under its limit. (Longer windows with higher
        limits on one name make delays that grow with the count: the login throttle's tiers.)
        A key is always used with the same window."""
        ...

    async def release(self, key: str, *, now: float) -> None:
        """Forget one event recorded at ``now`` on ``key`` (an attempt that did not count)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget every event of ``key``."""
        ...

    async def purge(self, *, now: float) -> int:
        """Forget events that have left their window (an event recorded at ``at`` with ``window``
        is gone once ``at + window <= now``); return how many went. Housekeeping only, so that
        storage stays bounded: ``acquire`` never counts such events anyway."""
        ...


class FeedListener(Protocol):
    def on_denials(self, denials: Sequence[Denial]) -> None:
        """Apply revocations (possibly ones already applied: applying twice is harmless)."""
        ...

    def on_keys_changed(self) -> None:
        """The signing keys changed: reload them (in the background; this must not block)."""
        ...

    async def on_resync(self) -> None:
        """The feed may have missed messages: reload from the database. Raise on failure, so
        the feed stays stale and retries."""
        ...


class RevocationFeed(Protocol):
    """Tells every process about revocations and key rotations made by one of them.

    The local feed (:class:`jwtkit.storage.memory.LocalRevocationFeed`) reaches listeners in
    this process only; :class:`jwtkit.storage.redis.RedisRevocationFeed` reaches every process
    over Redis pub/sub, :class:`jwtkit.storage.polling.DatabasePollingFeed` by polling the
    database. The database stays the source of truth: a listener that missed messages reloads
    from it (``on_resync``).
    """

    def is_fresh(self, max_staleness: float) -> bool:
        """True when every revocation committed more than ``max_staleness`` seconds ago has
        reached the listeners. Called per request: a cheap in-memory check, never I/O."""
        ...

    def subscribe(self, listener: FeedListener) -> Callable[[], None]:
        """Register ``listener``; return a function that unsubscribes it."""
        ...

    async def publish_denials(self, denials: Sequence[Denial]) -> None:
        """Tell this process's listeners at once (synchronously, passing ``denials`` itself, even
        if what follows fails), then the other processes."""
        ...

    async def publish_keys_changed(self) -> None:
        """Tell this process's listeners at once (even if what follows fails), then the others."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """Everything the service is given by the composition root; ``close`` releases it all."""

    users: UserStore
    tokens: TokenStore
    sessions: SessionStore
    keys: KeyStore
    rate_limiter: RateLimiter
    feed: RevocationFeed
    close: Callable[[], Awaitable[None]]
