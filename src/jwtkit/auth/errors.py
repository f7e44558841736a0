"""The errors the auth service raises; the HTTP layer maps each ``code`` to one status.

The tree::

    AuthError                    code                  HTTP
    ├── InvalidInputError        "invalid_input"       422  (field, reason)
    ├── UsernameTakenError       "username_taken"      409
    ├── InvalidCredentialsError  "invalid_credentials" 401  same for unknown user and wrong password
    ├── ThrottledError           "throttled"           429  (retry_after seconds)
    ├── InvalidTokenError        "invalid_token"       401  (reason: for the log only, never the body)
    └── ServiceUnavailableError  "service_unavailable" 503  storage down, or revocations stale (reason)

``message`` is safe to show to the client; ``reason`` (InvalidTokenError) and the chained
``__cause__`` are for the log.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "InvalidCredentialsError",
    "InvalidInputError",
    "InvalidTokenError",
    "ServiceUnavailableError",
    "ThrottledError",
    "UsernameTakenError",
]


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

    ``reason`` says which, for the log; clients only ever see ``invalid_token`` (RFC 6750 §3.1).
    """

    code = "invalid_token"
    message = "invalid_token"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__()


class ServiceUnavailableError(AuthError):
    """Storage is unreachable or failing, or the revocation state is stale; the request may be
    retried later. ``reason`` says which, for the log (clients see ``service_unavailable``)."""

    code = "service_unavailable"
    message = "service temporarily unavailable"

    def __init__(self, reason: str = "storage is unreachable or failing") -> None:
        self.reason = reason
        super().__init__()
