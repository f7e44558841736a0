"""The two transports over the one auth service: a Bearer access token in the
``Authorization`` header, and a session id in the ``sessionid`` cookie.

``bearer_principal`` is the hot path of ``/auth/me``: an ``async`` dependency (FastAPI would send
a plain ``def`` one to a thread pool) that reads one header and calls the service's sync,
I/O-free ``authenticate`` (a token not seen before with the checks of the requests that arrived
with it: ``.batching``). It is also an OpenAPI security scheme, so /docs shows the padlock.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from functools import partial
from typing import Any, cast

import fastapi.routing
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase

from jwtkit.auth.errors import InvalidTokenError
from jwtkit.auth.models import Principal
from jwtkit.auth.service import AuthService
from jwtkit.core.jws import MAX_TOKEN_SIZE
from jwtkit.core.tokens import decode_unverified
from jwtkit.errors import JWTError

from .batching import LoopBatch
from .credentials import SESSION_COOKIE
from .errors import MissingCredentialsError

__all__ = ["MAX_AUTHORIZATION_LENGTH", "SESSION_COOKIE", "BearerPrincipal", "RequestRoute", "bearer_principal",
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
        service = service_of(request)
        try:
            if service.remembers(token):  # no cryptography to do: answer inline
                return service.authenticate(token, allow_stale=self._allow_stale)
            # a signature to check: with those of the requests that arrived with this one (.batching)
            return await _checks.run(partial(service.authenticate, token, allow_stale=self._allow_stale))
        except InvalidTokenError as exc:
            raise with_expiry(exc, token) from None


_checks = LoopBatch()


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


class RequestRoute(APIRoute):
    """The route of a hot endpoint that takes the request alone and answers a ``Response``
    (``async def endpoint(request: Request) -> Response``, no dependencies): FastAPI calls it
    without its generic request handler, whose dependency solving, response-model and telemetry
    steps (a ``Response`` for header merging, the query, header and cookie mappings, all unused
    here) cost more than ``/auth/me``'s own work: ~100k instructions a request. The OpenAPI
    operation is FastAPI's, from the same arguments, and errors reach the same handlers.

    Any other endpoint gets FastAPI's handler, and so does one whose router (or app) adds
    dependencies: older FastAPI copies them into the route's own, newer builds each inclusion's
    handler with this method while its route context, which holds them, is current.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        if takes_request_alone(self, _included_dependant(self)):
            return cast("Callable[[Request], Coroutine[Any, Any, Response]]", self.endpoint)
        return super().get_route_handler()


def _included_dependant(route: APIRoute) -> Dependant:
    """The dependant FastAPI is building ``route``'s handler for: that of the inclusion whose
    context is current (newer FastAPI builds one handler per inclusion), else the route's own."""
    current = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = current.get() if isinstance(current, ContextVar) else None
    if context is not None and getattr(context, "original_route", None) is route:
        dependant = getattr(context, "dependant", None)
        if isinstance(dependant, Dependant):
            return dependant
    return route.dependant


def takes_request_alone(route: APIRoute, dependant: Dependant | None = None) -> bool:
    """Whether FastAPI would call ``route``'s endpoint with the request and nothing else (with
    ``dependant``, by default the route's own)."""
    d = route.dependant if dependant is None else dependant
    params = inspect.signature(route.endpoint).parameters.values()
    return (inspect.iscoroutinefunction(route.endpoint) and d.request_param_name is not None and len(params) == 1
            and next(iter(params)).kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            and not (d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params
                     or d.dependencies)
            and d.websocket_param_name is d.http_connection_param_name is d.response_param_name is None
            and d.background_tasks_param_name is d.security_scopes_param_name is None)
