"""In-memory adapters for every port of :mod:`jwtkit.auth.ports`: the reference
implementation and the test double. The single-process rate limiter and revocation feed it
uses live in :mod:`jwtkit.storage.in_process` (every backend uses them for one process) and are
re-exported here.

Each method runs without an ``await`` between its reads and writes, so it is atomic under
asyncio, which is what makes ``spend_refresh`` race-free here.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from jwtkit.auth.errors import UsernameTakenError
from jwtkit.auth.models import (
    Denial,
    RefreshRecord,
    SessionRecord,
    SigningKeyRecord,
    UserAccount,
    UserRecord,
    username_key,
)
from jwtkit.auth.ports import SpendResult, Stores, UserSpend

from .denials import until_access_expiry
from .in_process import LocalRevocationFeed, MemoryRateLimiter

__all__ = ["LocalRevocationFeed", "MemoryRateLimiter", "MemoryStore", "open_memory_stores"]

log = logging.getLogger(__name__)


class MemoryStore:
    """Users, refresh tokens, the denylist, sessions and signing keys in dictionaries."""

    def __init__(self) -> None:
        self._users: dict[int, UserRecord] = {}
        self._user_ids: dict[str, int] = {}  # by username_key
        self._refresh: dict[str, RefreshRecord] = {}
        # family id -> (expires_at, revoked_at, latest access-token expiry)
        self._families: dict[str, tuple[float, float | None, float | None]] = {}
        self._successors: dict[str, str] = {}  # spent jti -> the jti its spending stored
        self._family_kids: dict[str, str | None] = {}  # family id -> kid of its latest tokens
        self._denylist: dict[tuple[str, str], tuple[Denial, float]] = {}  # -> (entry, written at)
        self._sessions: dict[str, SessionRecord] = {}
        self._keys: dict[str, SigningKeyRecord] = {}
        self._secrets: dict[str, bytes] = {}
        self._deleted_users = 0
        self._user_created: dict[int, float] = {}

    # ---- UserStore
    async def create_user(self, username: str, password_hash: str, *, now: float) -> UserRecord:
        key = username_key(username)
        if key in self._user_ids:
            raise UsernameTakenError()
        # never reuse the id of a deleted user (a token of theirs must not name the new one)
        record = UserRecord(id=len(self._users) + self._deleted_users + 1, username=username,
                            password_hash=password_hash)
        self._users[record.id] = record
        self._user_ids[key] = record.id
        self._user_created[record.id] = now
        return record

    async def get_user_by_name(self, username: str) -> UserRecord | None:
        user_id = self._user_ids.get(username_key(username))
        return None if user_id is None else self._users[user_id]

    async def get_user(self, user_id: int) -> UserRecord | None:
        return self._users.get(user_id)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        if user_id in self._users:
            self._users[user_id] = dataclasses.replace(self._users[user_id], password_hash=password_hash)

    # ---- TokenStore
    async def start_family(self, first: RefreshRecord) -> None:
        self._families[first.family_id] = (first.expires_at, None, first.access_expires_at)
        self._family_kids[first.family_id] = first.kid
        self._refresh[first.jti] = dataclasses.replace(first, spent_at=None, revoked_at=None)

    async def get_refresh(self, jti: str) -> RefreshRecord | None:
        record = self._refresh.get(jti)
        if record is None:
            return None
        family = self._families.get(record.family_id)
        return dataclasses.replace(record, revoked_at=None if family is None else family[1])

    async def spend_refresh(self, jti: str, *, now: float, successor: RefreshRecord) -> SpendResult:
        record = self._refresh.get(jti)
        if record is None or record.expires_at <= now:
            return SpendResult.UNKNOWN
        family = self._families.get(record.family_id)
        if family is not None and family[1] is not None:
            return SpendResult.REVOKED
        if record.spent_at is not None:
            return SpendResult.REUSED
        self._refresh[jti] = dataclasses.replace(record, spent_at=now)
        expires_at, access_expires_at = (family[0], family[2]) if family else (0.0, None)
        self._families[record.family_id] = (
            max(successor.expires_at, expires_at), None, _later(access_expires_at, successor.access_expires_at)
        )
        if successor.kid is not None:
            self._family_kids[record.family_id] = successor.kid
        self._refresh[successor.jti] = dataclasses.replace(successor, spent_at=None, revoked_at=None)
        self._successors[jti] = successor.jti
        return SpendResult.SPENT

    async def spend_refresh_for_user(self, user_id: int, jti: str, *, now: float,
                                     successor: RefreshRecord) -> UserSpend:
        user = await self.get_user(user_id)  # (no await in between suspends: atomic, as spend_refresh)
        if user is None or user.disabled_at is not None:
            return UserSpend(user, None)
        return UserSpend(user, await self.spend_refresh(jti, now=now, successor=successor))

    async def spent_successor(self, jti: str, *, spent_since: float) -> RefreshRecord | None:
        record = self._refresh.get(jti)
        successor = self._refresh.get(self._successors.get(jti, ""))
        if record is None or successor is None or record.spent_at is None or record.spent_at < spent_since:
            return None
        family = self._families.get(record.family_id)
        return successor if family is not None and family[1] is None else None

    async def revoke(self, *, family_ids: Sequence[str], denials: Sequence[Denial], now: float) -> list[Denial]:
        for family_id in family_ids:
            family = self._families.get(family_id)
            if family is not None and family[1] is None:
                self._families[family_id] = (family[0], now, family[2])
        access_expiry = {fid: family[2] for fid, family in self._families.items() if fid in family_ids}
        denials = [until_access_expiry(denial, access_expiry) for denial in denials]
        for denial in denials:
            key = (denial.kind, denial.value)
            old = self._denylist.get(key)
            if old is None or old[0].expires_at < denial.expires_at:
                self._denylist[key] = (denial, now)
            else:
                self._denylist[key] = (old[0], now)
        return list(denials)

    async def live_denials(self, *, now: float) -> list[Denial]:
        return [denial for denial, _ in self._denylist.values() if denial.expires_at > now]

    async def denials_since(self, since: float, *, now: float) -> list[Denial]:
        return [denial for denial, written in self._denylist.values() if written >= since and denial.expires_at > now]

    async def purge_tokens(self, *, now: float) -> int:
        dead_refresh = [jti for jti, record in self._refresh.items() if record.expires_at <= now]
        dead_families = [fid for fid, (expires_at, _, _) in self._families.items() if expires_at <= now]
        dead_denials = [key for key, (denial, _) in self._denylist.items() if denial.expires_at <= now]
        for jti in dead_refresh:
            del self._refresh[jti]
            self._successors.pop(jti, None)
        for fid in dead_families:
            del self._families[fid]
            self._family_kids.pop(fid, None)
        for key in dead_denials:
            del self._denylist[key]
        return len(dead_refresh) + len(dead_families) + len(dead_denials)

    # ---- SessionStore
    async def add_session(self, record: SessionRecord) -> None:
        self._sessions[record.key_hash] = record

    async def get_session(self, key_hash: str) -> SessionRecord | None:
        return self._sessions.get(key_hash)

    async def delete_session(self, key_hash: str) -> None:
        self._sessions.pop(key_hash, None)

    async def purge_sessions(self, *, now: float) -> int:
        dead = [key for key, record in self._sessions.items() if record.expires_at <= now]
        for key in dead:
            del self._sessions[key]
        return len(dead)

    # ---- KeyStore
    async def signing_keys(self) -> list[SigningKeyRecord]:
        return sorted(self._keys.values(), key=lambda record: (record.created_at, record.kid))

    async def add_signing_key(
        self, record: SigningKeyRecord, *, retire_others_at: float | None, not_after: float | None
    ) -> None:
        if retire_others_at is not None:
            for kid, old in self._keys.items():
                if old.retired_at is None:
                    self._keys[kid] = dataclasses.replace(old, retired_at=retire_others_at, not_after=not_after)
        self._keys[record.kid] = record

    async def retire_signing_key(self, kid: str, *, now: float) -> int | None:
        record = self._keys.get(kid)
        if record is None or (record.not_after is not None and record.not_after <= now):
            return None
        retired_at = now if record.retired_at is None else record.retired_at
        self._keys[kid] = dataclasses.replace(record, retired_at=retired_at, not_after=now)
        ended = [fid for fid, (expires_at, revoked_at, _) in self._families.items()
                 if revoked_at is None and expires_at > now and self._family_kids.get(fid) == kid]
        for fid in ended:
            expires_at, _, access_expires_at = self._families[fid]
            self._families[fid] = (expires_at, now, access_expires_at)
        return len(ended)

    async def purge_signing_keys(self, *, now: float) -> int:
        dead = [kid for kid, record in self._keys.items() if record.not_after is not None and record.not_after <= now]
        for kid in dead:
            del self._keys[kid]
        return len(dead)

    async def server_secret(self, name: str, *, candidate: bytes, now: float) -> bytes:
        return self._secrets.setdefault(name, bytes(candidate))

    # ---- accounts (UserStore, TokenStore, SessionStore; schema version 8)
    async def record_login(self, user_id: int, *, now: float) -> None:
        if user_id in self._users:
            self._users[user_id] = dataclasses.replace(self._users[user_id], last_login_at=now)

    async def set_disabled(self, user_id: int, *, disabled_at: float | None) -> bool:
        if user_id not in self._users:
            return False
        self._users[user_id] = dataclasses.replace(self._users[user_id], disabled_at=disabled_at)
        return True

    async def delete_user(self, user_id: int) -> bool:
        record = self._users.pop(user_id, None)
        if record is None:
            return False
        self._deleted_users += 1
        del self._user_ids[username_key(record.username)]
        self._user_created.pop(user_id, None)
        families = {token.family_id for token in self._refresh.values() if token.user_id == user_id}
        for jti in [jti for jti, token in self._refresh.items() if token.user_id == user_id]:
            del self._refresh[jti]
            self._successors.pop(jti, None)
        for fid in families:
            self._families.pop(fid, None)
            self._family_kids.pop(fid, None)
        return True

    async def list_users(self, *, now: float) -> list[UserAccount]:
        return [
            UserAccount(id=user.id, username=user.username, created_at=self._user_created.get(user.id),
                        last_login_at=user.last_login_at, disabled_at=user.disabled_at,
                        live_families=len(await self.live_families(user.id, now=now)))
            for user in sorted(self._users.values(), key=lambda user: user.id)
        ]

    async def live_families(self, user_id: int, *, now: float) -> list[str]:
        families = {token.family_id for token in self._refresh.values() if token.user_id == user_id}
        return sorted(fid for fid in families
                      if (family := self._families.get(fid)) is not None and family[1] is None and family[0] > now)

    async def delete_user_sessions(self, user_id: int) -> int:
        dead = [key for key, record in self._sessions.items() if record.data.get("user_id") == user_id]
        for key in dead:
            del self._sessions[key]
        return len(dead)


def _later(first: float | None, second: float | None) -> float | None:
    return second if first is None else first if second is None else max(first, second)


async def _nothing() -> None:
    return None


def open_memory_stores(store: MemoryStore | None = None, *, feed: LocalRevocationFeed | None = None) -> Stores:
    """Stores held in memory: lost when the process ends. Pass ``store`` (and ``feed``) to
    share them between services, e.g. to simulate a restart in a test."""
    store = MemoryStore() if store is None else store
    return Stores(
        users=store,
        tokens=store,
        sessions=store,
        keys=store,
        rate_limiter=MemoryRateLimiter(),
        feed=LocalRevocationFeed() if feed is None else feed,
        close=_nothing,
    )


