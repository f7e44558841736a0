"""The two transports over the one auth service: a Bearer access token in the
``Authorization`` header, and a session id in the ``sessionid`` cookie.

``bearer_principal`` is the hot path of ``/auth/me``: an ``async`` dependency (FastAPI would send
a plain ``def`` one to a thread pool) that reads one header and calls the service's sync,
I/O-free ``authenticate``. It is also an OpenAPI security scheme, so /docs shows the padlock.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from jwtkit.auth.errors import InvalidTokenError
from jwtkit.auth.models import Principal
from jwtkit.auth.service import AuthService
from jwtkit.core.jws import MAX_TOKEN_SIZE
from jwtkit.core.tokens import decode_unverified
from jwtkit.errors import JWTError

from .credentials import SESSION_COOKIE
from .errors import MissingCredentialsError

__all__ = ["MAX_AUTHORIZATION_LENGTH", "SESSION_COOKIE", "BearerPrincipal", "bearer_principal",
           "bearer_principal_to_revoke", "service_of", "with_expiry"]

MAX_AUTHORIZATION_LENGTH = len("Bearer ") + MAX_TOKEN_SIZE
"""``"Bearer "`` plus the core's largest token; anything longer is refused unread."""


def service_of(request: Request) -> AuthService:
    """The service the app's lifespan opened."""
    service: AuthService = request.scope["app"].state.service
    return service


def authorization_header(request: Request) -> str | None:
    """The request's first ``Authorization`` header, as ``request.headers.get("authorization")``
    reads it (ASGI servers give header names in lower case; the value is Latin-1), without
    building the ``Headers`` object: the hot path reads no other header."""
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive, RFC 7235 §2.1).

    Raises:
        MissingCredentialsError: no header, or another scheme.
        InvalidTokenError: a Bearer header without a usable token.
    """
    if not authorization:
        raise MissingCredentialsError()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise MissingCredentialsError()
    if len(authorization) > MAX_AUTHORIZATION_LENGTH:
        raise InvalidTokenError("Authorization header too long")
    token = token.strip(" ")
    if not token:
        raise InvalidTokenError("empty Bearer token")
    return token


class BearerPrincipal(SecurityBase):
    """Dependency: the ``Principal`` of the request's Bearer access token.

    Raises ``MissingCredentialsError`` or ``InvalidTokenError``, which the error table turns into
    401, or ``ServiceUnavailableError`` (503) while revocations are stale, unless ``allow_stale``.
    """

    def __init__(self, *, allow_stale: bool = False) -> None:
        self.model = HTTPBearerModel(bearerFormat="JWT", description="An access token from POST /auth/token")
        self.scheme_name = "BearerJWT"
        self._allow_stale = allow_stale

    async def __call__(self, request: Request) -> Principal:
        token = bearer_token(authorization_header(request))
        try:
            return service_of(request).authenticate(token, allow_stale=self._allow_stale)
        except InvalidTokenError as exc:
            raise with_expiry(exc, token) from None


def with_expiry(exc: InvalidTokenError, token: str) -> InvalidTokenError:
    """``exc``, with ``expires_at`` read from ``token`` when it is an expired token's error.

    Safe to read unverified: the service says ``"expired"`` only after the signature verified.
    """
    if exc.kind != "expired" or exc.expires_at is not None:
        return exc
    try:
        exp = decode_unverified(token)[1].get("exp")
    except JWTError:
        return exc
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return exc
    return InvalidTokenError(exc.reason, kind="expired", expires_at=int(exp))


bearer_principal = BearerPrincipal()
bearer_principal_to_revoke = BearerPrincipal(allow_stale=True)
"""For logout: works while revocations are stale (revoking is always safe)."""
