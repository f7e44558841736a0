"""Starlette: ``JWTAuthBackend`` for ``AuthenticationMiddleware``.

Example::

    from starlette.applications import Starlette
    from starlette.authentication import requires
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from jwtkit.integrations.starlette import JWTAuthBackend

    auth = JWTAuthBackend(jwks_url="https://auth.example/.well-known/jwks.json", algorithms=["ES256"])

    @requires("items:read")
    async def items(request):
        return JSONResponse({"user": request.user.identity, "scopes": request.auth.scopes})

    app = Starlette(routes=[Route("/items", items)], middleware=[auth.middleware()])

``request.user.identity`` is ``sub`` (else ``user_id``), ``request.user.claims`` the claims,
``request.auth.scopes`` the token's ``scope``/``scp`` plus ``"authenticated"``, so Starlette's
``@requires`` works; this module's :func:`requires` does the same with RFC 6750 answers (401
``Bearer`` without a token, 403 ``insufficient_scope``). Needs ``pip install 'jwtkit[starlette]'``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    UnauthenticatedUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from jwtkit.errors import JWTError
from jwtkit.jwks import JWKSUnavailableError

from . import bearer

__all__ = ["BearerAuthenticationMiddleware", "JWTAuthBackend", "JWTUser", "requires"]


class JWTUser(BaseUser):
    """The user a verified access token names."""

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def identity(self) -> Any:
        """``sub``, else ``user_id`` (:func:`bearer.identity_of`, inline: endpoints read it on every request)."""
        claims = self.claims
        sub = claims.get("sub")
        return sub if sub is not None else claims.get("user_id")

    @property
    def display_name(self) -> str:
        name = self.claims.get("username", self.identity)
        return str(name) if name is not None else ""


class BearerAuthenticationError(AuthenticationError):
    """A refused bearer token; :meth:`JWTAuthBackend.on_error` turns it into the RFC 6750 answer."""

    def __init__(self, denial: bearer.Denial) -> None:
        super().__init__(denial.description)
        self.denial = denial


@functools.lru_cache(maxsize=1024)
def _credential_scopes(scopes: frozenset[str]) -> tuple[str, ...]:
    """``request.auth.scopes`` for a token's scopes (sorted, then ``"authenticated"``), once per distinct set."""
    return (*sorted(scopes), "authenticated")


def _response(denial: bearer.Denial) -> Response:
    return JSONResponse(denial.body, status_code=denial.status, headers=denial.headers)


class JWTAuthBackend(AuthenticationBackend):
    """An ``AuthenticationBackend`` that verifies ``Authorization: Bearer`` access tokens.

    Args:
        jwks_url: the issuer's JWKS URL (an :class:`jwtkit.AsyncJWKSClient` is built for it), or
        key: a :class:`jwtkit.Key`, :class:`jwtkit.KeySet` or your own ``AsyncJWKSClient``.
        algorithms, audience, issuer, leeway: as for :class:`jwtkit.Verifier`; ``exp`` is required.
        cache_size: tokens remembered after their signature verified (0 for none); claims are
            checked on every request, and a refetched key set empties the cache.

    A request without a bearer token passes as Starlette's unauthenticated user; a bad token is
    a 401 ``invalid_token`` and unavailable keys a 503 with ``Retry-After``, when the middleware
    has ``on_error=backend.on_error`` (:meth:`middleware` sets it).

    Raises:
        TypeError, ValueError: misuse, when built.
    """

    def __init__(
        self,
        *,
        jwks_url: str | None = None,
        key: Any = None,
        algorithms: Iterable[str],
        audience: str | Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        leeway: float | timedelta = 0,
        cache_size: int = bearer.CACHE_SIZE,
    ) -> None:
        opts = bearer.options(jwks_url=jwks_url, key=key, algorithms=algorithms, audience=audience,
                              issuer=issuer, leeway=leeway, cache_size=cache_size)
        self.verifier = bearer.async_verifier(opts)

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        return await self.authenticate_header(conn.headers.get("authorization"))

    async def authenticate_header(self, authorization: str | None) -> tuple[AuthCredentials, BaseUser] | None:
        """:meth:`authenticate` given the ``Authorization`` header's value (None when absent)."""
        try:
            token = bearer.bearer_token(authorization)
            if token is None:
                return None
            claims = await self.verifier.verify(token)  # as bearer.claims_of does, from a header string
            if claims.get("token_type", "access") != "access":
                bearer.verified(claims)
        except bearer.BearerRefused as refusal:
            raise BearerAuthenticationError(refusal.denial) from None
        except JWTError as error:
            raise BearerAuthenticationError(bearer.refused(error)) from None
        except JWKSUnavailableError as error:
            raise BearerAuthenticationError(bearer.unavailable(error)) from None
        return AuthCredentials(_credential_scopes(bearer.scopes_of(claims))), JWTUser(claims)

    @staticmethod
    def on_error(conn: HTTPConnection, exc: Exception) -> Response:
        """The middleware's ``on_error``: the RFC 6750 answer for a refused token."""
        if isinstance(exc, BearerAuthenticationError):
            return _response(exc.denial)
        return PlainTextResponse(str(exc), status_code=400)

    def middleware(self) -> Middleware:
        """``Middleware(BearerAuthenticationMiddleware, backend=self, on_error=self.on_error)``: Starlette's
        ``AuthenticationMiddleware``, reading the header straight from the ASGI scope."""
        return Middleware(BearerAuthenticationMiddleware, backend=self, on_error=self.on_error)


class BearerAuthenticationMiddleware(AuthenticationMiddleware):
    """Starlette's ``AuthenticationMiddleware`` for a :class:`JWTAuthBackend`, with the same ``scope["auth"]``,
    ``scope["user"]`` and ``on_error`` answers, without building an ``HTTPConnection`` and its header map on
    every request: the ``Authorization`` header is found in the scope's raw headers (the cost of this
    middleware on a request without a token is that scan)."""

    backend: JWTAuthBackend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            result = await self.backend.authenticate_header(bearer.authorization_of(scope["headers"]))
        except AuthenticationError as exc:
            response = self.on_error(HTTPConnection(scope), exc)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            else:
                await response(scope, receive, send)
            return
        scope["auth"], scope["user"] = result if result is not None else (AuthCredentials(), UnauthenticatedUser())
        await self.app(scope, receive, send)


def requires(scopes: str | Sequence[str] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Starlette's ``@requires`` with RFC 6750 answers, for endpoints taking ``request``: 401
    ``WWW-Authenticate: Bearer`` when no token was sent, 403 ``insufficient_scope`` naming the
    scopes when the token lacks one.

    Example::

        @requires("items:read")
        async def items(request): ...
    """
    needed = (scopes,) if isinstance(scopes, str) else tuple(scopes)
    needed_set = frozenset(needed)

    def denial_for(request: Request) -> Response | None:
        if not request.user.is_authenticated:
            return _response(bearer.missing())
        if needed and not set(request.auth.scopes).issuperset(needed):
            return _response(bearer.insufficient_scope(needed))
        return None

    def decorate(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(endpoint):
            @functools.wraps(endpoint)
            async def checked_async(request: Request, *args: Any, **kwargs: Any) -> Any:
                # denial_for's test, inline: the granted path costs no call of its own
                if request.user.is_authenticated and (not needed or needed_set.issubset(request.auth.scopes)):
                    return await endpoint(request, *args, **kwargs)
                return denial_for(request)

            return checked_async

        @functools.wraps(endpoint)
        def checked(request: Request, *args: Any, **kwargs: Any) -> Any:
            denial = denial_for(request)
            return denial if denial is not None else endpoint(request, *args, **kwargs)

        return checked

    return decorate
