"""Value objects the auth service hands out (``User``, ``TokenPair``, ``Principal``) and the
records it keeps in storage (``UserRecord``, ``RefreshRecord``, ``Denial``, ``SessionRecord``,
``SigningKeyRecord``)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal


def username_key(username: str) -> str:
    """What a username is unique by and looked up by: NFKC, then casefold (Unicode's caseless
    matching), so ``admin``, ``Admin`` and ``ADMIN`` name one account. The stored display name
    keeps the form it was registered with."""
    return unicodedata.normalize("NFKC", username).casefold()


@dataclass(frozen=True, slots=True)
class User:
    """A registered user, as the API shows it: ``{id, username}``."""

    id: int
    username: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    """The answer to a login or a refresh (RFC 6749 §5.1 shape)."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who a verified access token speaks for, read from its claims alone (no database read)."""

    user_id: int
    username: str
    jti: str
    exp: int
    family_id: str
    claims: dict[str, Any] = field(default_factory=dict)


# ---- storage records -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    """A user row: the public ``User`` plus the argon2id hash."""

    id: int
    username: str
    password_hash: str = field(repr=False)
    # Version 8 (None before, and for a user who never did): when an operator disabled the account
    # (``jwtkit users disable``: no login, no refresh) and when its password last logged in.
    disabled_at: float | None = None
    last_login_at: float | None = None

    def to_user(self) -> User:
        return User(self.id, self.username)


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshRecord:
    """One issued refresh token (by ``jti``) in its family (one login)."""

    jti: str
    family_id: str
    user_id: int
    issued_at: float
    expires_at: float
    # ``exp`` of the access token issued with it: a revoked family is denied until the latest one.
    access_expires_at: float | None = None
    # ``jti`` of the access token issued with it (version 7; None before): with ``issued_at`` and the
    # expiries, what re-signs the pair for a replay within ``AuthSettings.refresh_reuse_grace``.
    access_jti: str | None = None
    spent_at: float | None = None
    revoked_at: float | None = None
    # ``kid`` of the key that signed it (and its access token): the family remembers its latest.
    kid: str | None = None


DenialKind = Literal["jti", "family"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Denial:
    """A denylist entry: access tokens with this ``jti`` (or family id) are refused until ``expires_at``."""

    kind: DenialKind
    value: str
    expires_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """A cookie session; ``key_hash`` is the SHA-256 hex of the raw id, which is never stored."""

    key_hash: str
    data: dict[str, Any]
    expires_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RetiredKey:
    """What :meth:`AuthService.retire_key` did: ``sessions_ended`` refresh families revoked, and
    the new active key when the retired one was active."""

    kid: str
    sessions_ended: int
    replaced_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKeyRecord:
    """A signing key as stored: ``private_jwk`` is encrypted (``encrypted=True``) or plaintext JSON."""

    kid: str
    alg: str
    private_jwk: str = field(repr=False)
    encrypted: bool
    created_at: float
    retired_at: float | None = None
    not_after: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserAccount:
    """A user as an operator sees it (``jwtkit users list``): never the password hash.
    ``live_families`` counts the refresh families (logins) neither revoked nor expired."""

    id: int
    username: str
    created_at: float | None
    last_login_at: float | None
    disabled_at: float | None
    live_families: int
    # seconds until the login throttle's per-username lock (from every address) ends; 0: not locked
    locked_for: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountChange:
    """What an account operation ended: ``sessions_ended`` refresh families revoked (their access
    tokens denied) and ``cookie_sessions_ended`` cookie sessions deleted."""

    user: User
    sessions_ended: int
    cookie_sessions_ended: int = 0
