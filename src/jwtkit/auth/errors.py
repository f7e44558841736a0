"""The errors the auth service raises; the HTTP layer maps each ``code`` to one status.

The tree::

    AuthError                    code                  HTTP
    ├── InvalidInputError        "invalid_input"       422  (field, reason)
    ├── UsernameTakenError       "username_taken"      409
    ├── InvalidCredentialsError  "invalid_credentials" 401  same for unknown user and wrong password
    ├── ThrottledError           "throttled"           429  (retry_after seconds)
    ├── InvalidTokenError        "invalid_token"       401  (kind: what the client can do; reason: the log's)
    ├── ServiceUnavailableError  "service_unavailable" 503  storage down, or revocations stale (reason)
    ├── WrongPasswordError       "wrong_password"      400  the current password, when changing it
    └── RegistrationClosedError  "registration_closed" 403  `jwtkit serve --no-register`

``message`` is safe to show to the client; ``reason`` (InvalidTokenError) and the chained
``__cause__`` are for the log.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "AuthError",
    "InvalidCredentialsError",
    "InvalidInputError",
    "InvalidTokenError",
    "RegistrationClosedError",
    "ServiceUnavailableError",
    "ThrottledError",
    "TokenFailure",
    "UsernameTakenError",
    "WrongPasswordError",
]

TokenFailure = Literal["expired", "ended", "invalid"]
"""What a client can do about an :class:`InvalidTokenError`: ``"expired"`` (a genuine token past its
``exp``: refresh), ``"ended"`` (a genuine token whose session was revoked, or a refresh token
presented again: log in again), ``"invalid"`` (everything else, forged or malformed included)."""


class AuthError(Exception):
    """The root of the auth service's errors: a stable ``code`` and a client-safe ``message``."""

    code: str = "auth_error"
    message: str = "authentication failed"

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class InvalidInputError(AuthError):
    """A request field breaks the input rules (length, character set, password policy)."""

    code = "invalid_input"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class UsernameTakenError(AuthError):
    """Registration with a username that already exists."""

    code = "username_taken"
    message = "username already taken"


class InvalidCredentialsError(AuthError):
    """Wrong username or password; the same error, body and timing for both."""

    code = "invalid_credentials"
    message = "invalid username or password"


class ThrottledError(AuthError):
    """Too many failed logins for this username or client (or registrations from this client);
    try again in ``retry_after`` seconds."""

    code = "throttled"
    message = "too many failed login attempts"

    def __init__(self, retry_after: int, *, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(message)


class InvalidTokenError(AuthError):
    """A token or session id that is malformed, forged, expired, of the wrong type, spent or revoked.

    ``reason`` says which, for the log; clients see ``invalid_token`` (RFC 6750 §3.1) and only
    what ``kind`` allows them to act on. ``kind`` is given by the raiser, or else
    read from the reasons the service raises with (see :data:`TokenFailure`); only failures that
    need a valid signature first (expiry, revocation, reuse) are ever anything but ``"invalid"``,
    so a forger learns nothing from it. ``expires_at`` (epoch seconds) is set for ``"expired"``
    when the raiser knows it.
    """

    code = "invalid_token"
    message = "invalid_token"

    def __init__(self, reason: str, *, kind: TokenFailure | None = None, expires_at: int | None = None) -> None:
        self.reason = reason
        self.kind: TokenFailure = kind if kind is not None else _kind_of(reason)
        self.expires_at = expires_at
        super().__init__()


_ENDED_REASONS = frozenset({
    "access token revoked", "refresh family revoked", "refresh token revoked", "refresh token reused; family revoked",
    "session expired",
})
"""Reasons the service raises after the token's signature (or the session id's lookup) succeeded."""


def _kind_of(reason: str) -> TokenFailure:
    if reason.startswith("expired_token:"):  # the core checks exp only after the signature verified
        return "expired"
    if reason in _ENDED_REASONS:
        return "ended"
    return "invalid"


class ServiceUnavailableError(AuthError):
    """Storage is unreachable or failing, or the revocation state is stale; the request may be
    retried later. ``reason`` says which, for the log (clients see ``service_unavailable``)."""

    code = "service_unavailable"
    message = "service temporarily unavailable"

    def __init__(self, reason: str = "storage is unreachable or failing") -> None:
        self.reason = reason
        super().__init__()


class WrongPasswordError(AuthError):
    """Changing a password with a wrong current password (counted as a failed login). Not a 401:
    the access token is fine, and a client must not take this for "log in again" or refresh."""

    code = "wrong_password"
    message = "the current password is wrong"


class RegistrationClosedError(AuthError):
    """Public registration is closed (``jwtkit serve --no-register``): accounts are made by an
    operator (``jwtkit users create``)."""

    code = "registration_closed"
    message = "registration is closed on this server: ask its operator for an account"
