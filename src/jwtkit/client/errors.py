"""The errors :class:`~jwtkit.client.TokenAuth` raises (out of the httpx call that needed tokens).

The tree::

    TokenAuthError                code
    ├── LoginFailedError          "login_failed"      the server refused the username/password (401, 429)
    ├── SessionEndedError         "session_ended"     the server refused the refresh token (401): log in again
    └── TokenEndpointError        "token_endpoint"    any other answer (5xx, not JSON, ...): try again later

None of them is a :class:`jwtkit.JWTError`: no token was being verified. Messages never contain a token.
"""

from __future__ import annotations

__all__ = ["LoginFailedError", "SessionEndedError", "TokenAuthError", "TokenEndpointError"]


class TokenAuthError(Exception):
    """The root: getting or renewing tokens failed. ``status`` is the HTTP status of the
    token endpoint's answer."""

    code = "token_auth_error"

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class LoginFailedError(TokenAuthError):
    """The username/password login was refused: wrong credentials (401), or too many failures
    (429, ``retry_after`` seconds; None otherwise)."""

    code = "login_failed"

    def __init__(self, message: str, *, status: int, retry_after: int | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class SessionEndedError(TokenAuthError):
    """The server refused the refresh token (401): it expired, was revoked (logout, reuse
    detection) or is not the server's. Every later request raises this error at once, without
    calling the server; build a new ``TokenAuth`` (log in again) to go on."""

    code = "session_ended"


class TokenEndpointError(TokenAuthError):
    """The token endpoint answered something else than tokens or a refusal (a 5xx, a body that
    is not the expected JSON). Nothing changed: the next request tries again."""

    code = "token_endpoint"
