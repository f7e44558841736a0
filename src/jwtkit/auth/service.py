"""``AuthService``: registration, login, refresh rotation with reuse detection, logout,
cookie sessions and the signing-key ring, over the ports of :mod:`jwtkit.auth.ports`.

Async and framework-free: the HTTP layer (``jwtkit.web``) calls it; Bearer tokens and cookie
sessions are two transports over this one service (STYLE.md §9).

Example::

    service = await AuthService.open(AuthSettings(), stores)
    user = await service.register("alice", "correct horse")
    pair = await service.login("alice", "correct horse", client="203.0.113.7")
    principal = service.authenticate(pair.access_token)   # sync, no I/O
    pair = await service.refresh(pair.refresh_token)
    await service.logout(service.authenticate(pair.access_token), pair.refresh_token)
    await service.close()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .models import Principal, TokenPair, User
from .ports import Stores
from .settings import AuthSettings

Clock = Callable[[], float]


class AuthService:
    """The auth server's service layer. Build it with :meth:`open`, release it with :meth:`close`."""

    @classmethod
    async def open(cls, settings: AuthSettings, stores: Stores, *, clock: Clock = time.time) -> AuthService:
        """Load the key ring (creating the first signing key if there is none, or a new one
        when ``settings.alg`` changed), load the live denylist into memory and subscribe to
        the revocation feed.

        Raises:
            ServiceUnavailableError: storage is unreachable.
            ValueError: a stored key cannot be decrypted with ``settings.key_encryption_secret``.
        """
        raise NotImplementedError

    async def close(self) -> None:
        """Unsubscribe from the feed and close the stores."""
        raise NotImplementedError

    @property
    def settings(self) -> AuthSettings:
        raise NotImplementedError

    async def register(self, username: str, password: str) -> User:
        """Create a user with an argon2id password hash.

        Usernames: 1..``username_max_length`` characters of ``A-Z a-z 0-9 . _ @ + -``
        (compared exactly, case-sensitive). Passwords: ``password_min_length`` ..
        ``password_max_length`` characters, not only whitespace.

        Raises:
            InvalidInputError: the username or password breaks the rules (``field`` says which).
            UsernameTakenError: the username exists.
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError

    async def login(self, username: str, password: str, *, client: str) -> TokenPair:
        """Check the password and issue an access/refresh pair (a new refresh family).

        An unknown user costs the same hash as a wrong password and gets the same error.
        Failures are counted per username and per ``client`` (address) in a sliding window;
        while either is over its limit every attempt is refused, the right password included.

        Raises:
            ThrottledError: too many recent failures (``retry_after`` seconds).
            InvalidCredentialsError: unknown user or wrong password.
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Spend ``refresh_token`` and issue a new pair in the same family.

        The spend is one atomic conditional update: of concurrent refreshes with one token
        exactly one succeeds. A spent token presented again is reuse (RFC 9700 §4.14): the
        whole family is revoked, its refresh tokens in storage and its access tokens in the
        denylist. Concurrent refreshes of one token count as reuse too (a client never
        legitimately sends them), so the family of the winner is revoked as well.

        Raises:
            InvalidTokenError: not a live refresh token of ours (``reason`` says why).
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError

    def authenticate(self, access_token: str) -> Principal:
        """Verify an access token: signature by a key of the ring, ``exp``, ``iss``/``aud``,
        ``token_type == "access"``, and neither its ``jti`` nor its family denied. Sync, no I/O.

        Raises:
            InvalidTokenError: for every failure (``reason`` says which, for the log).
        """
        raise NotImplementedError

    async def verify_token(self, token: str) -> None:
        """Check any token of ours: an access token as :meth:`authenticate` does, a refresh
        token also against storage (issued, unspent, unrevoked).

        Raises:
            InvalidTokenError: the token is not valid now.
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        """Revoke the refresh family (and the family of ``refresh_token``), and deny the access
        token's ``jti`` until its ``exp`` — in one transaction, then published to the feed.

        Raises:
            InvalidTokenError: ``refresh_token`` is not a refresh token of this user (nothing is revoked).
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError

    async def session_login(self, username: str, password: str, *, client: str) -> tuple[str, int]:
        """Check credentials like :meth:`login` and open a cookie session.

        Returns ``(session_id, max_age_seconds)``: a fresh ``secrets.token_urlsafe(32)`` every
        time (never one the client supplied); only its SHA-256 is stored.

        Raises:
            ThrottledError, InvalidCredentialsError, ServiceUnavailableError: as :meth:`login`.
        """
        raise NotImplementedError

    async def session_user(self, session_id: str) -> User:
        """The user of a live session.

        Raises:
            InvalidTokenError: unknown, expired or malformed session id.
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError

    async def session_logout(self, session_id: str) -> None:
        """End a session (no error if it does not exist)."""
        raise NotImplementedError

    def jwks(self) -> dict[str, Any]:
        """The public JWKS: the active key and retired keys whose tokens may still be alive.
        Never a private member."""
        raise NotImplementedError

    async def rotate_keys(self) -> str:
        """Make a new active signing key and retire the current one, which stays published
        (and accepted) until every token it signed has expired. Returns the new ``kid``.

        Raises:
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError

    async def purge_expired(self) -> int:
        """Delete expired refresh tokens, denylist entries, sessions and dead signing keys, and
        drop expired denylist entries from memory. Returns the number of rows deleted.

        Raises:
            ServiceUnavailableError: storage is down.
        """
        raise NotImplementedError
