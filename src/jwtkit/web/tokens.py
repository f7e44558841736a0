"""The Bearer-token endpoints (``/auth/...``): register, login, refresh, verify, logout, me.

``POST /auth/token`` is a first-party login API, not the OAuth 2 password grant for third-party
clients (which RFC 9700 §2.4 forbids): it takes JSON ``{username, password}`` or the OAuth 2
password form (``grant_type=password``, so that the /docs "Authorize" button works).
Token answers carry ``Cache-Control: no-store`` (RFC 6749 §5.1).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from jwtkit.auth.errors import InvalidTokenError
from jwtkit.auth.models import Principal, TokenPair

from .credentials import REFRESH_BODY, TOKEN_BODY, client_address, device_cookie, read_credentials, read_refresh
from .deps import RequestRoute, bearer_principal, bearer_principal_to_revoke, service_of, with_expiry
from .devices import remember_device
from .headers import NO_STORE
from .openapi import BEARER, errors
from .schemas import CredentialsIn, RefreshIn, TokenIn, TokenPairOut, UserOut

__all__ = ["UserJSON", "add_me", "add_refresh", "router"]

router = APIRouter(prefix="/auth", tags=["tokens"])

FORM = "application/x-www-form-urlencoded"
_json_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


class UserJSON(Response):
    """``GET /auth/me``'s answer: ``{"id":…,"username":…}``, the bytes and headers ``JSONResponse``
    gives (compact, non-ASCII kept), built without the generic ``__init__`` and JSON encoder
    (header mapping, media-type checks, a dict to walk): ~2 µs less per request."""

    media_type = "application/json"

    def __init__(self, user_id: int, username: str) -> None:  # no super().__init__: everything is set here
        body = b'{"id":%d,"username":%s}' % (user_id, _json_string(username).encode())
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]


class _PairJSON(Response):
    """A token pair answer: the bytes ``TokenPairOut`` would serialize to (compact), with
    ``Cache-Control: no-store`` and ``Pragma: no-cache`` (RFC 6749 §5.1), built without the
    response model's validation and serialization, the generic ``__init__`` and a header merge:
    the refresh endpoint's answer, ~40k instructions less a request. The tokens are our own
    compact JWS (base64url and dots: nothing to escape in a JSON string)."""

    media_type = "application/json"

    def __init__(self, pair: TokenPair) -> None:  # no super().__init__: everything is set here
        body = b'{"access_token":"%s","refresh_token":"%s","token_type":%s,"expires_in":%d}' % (
            pair.access_token.encode(), pair.refresh_token.encode(), _json_string(pair.token_type).encode(),
            pair.expires_in)
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json"),
                            (b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


def _pair(pair: TokenPair) -> TokenPairOut:
    return TokenPairOut(access_token=pair.access_token, refresh_token=pair.refresh_token,
                        token_type=pair.token_type, expires_in=pair.expires_in)


async def me(request: Request) -> Response:
    """The user of the Bearer access token, from its claims alone (no database read)."""
    # The hot path: the same dependency, awaited directly, and the body rendered without a response
    # model, by an endpoint of the request alone that FastAPI calls without its request handler
    # (``RequestRoute``): its dependency solving and response validation cost ~20 + ~15 µs a request
    # here, as much as a tenth of the floor's whole request (see benchmarks/bench_server.py).
    principal = await bearer_principal(request)
    return UserJSON(principal.user_id, principal.username)


def add_me(hot: APIRouter) -> None:
    """Serve ``GET /auth/me`` from ``hot``, the app's first router (with ``/health``: FastAPI tries
    its included routers in order, and each one passed costs a few µs; see ``jwtkit.web.app``). As a
    ``RequestRoute`` it is answered ahead of the router by ``DirectRoutes`` (.direct) in the server's app."""
    hot.add_api_route("/auth/me", me, methods=["GET"], tags=["tokens"], response_model=UserOut, operation_id="getMe",
                      summary="The user of an access token", responses=errors(401, 503),
                      openapi_extra={"security": BEARER}, route_class_override=RequestRoute)


@router.post("/register", status_code=201, response_model=UserOut, operation_id="register",
             summary="Create a user", responses=errors(400, 409, 413, 415, 422, 429, 503))
async def register(body: CredentialsIn, request: Request) -> UserOut:
    """Create a user. Passwords: at least 8 characters; usernames: up to 150 of ``A-Za-z0-9._@+-``."""
    user = await service_of(request).register(body.username, body.password, client=client_address(request))
    return UserOut(id=user.id, username=user.username)


@router.post("/token", response_model=TokenPairOut, operation_id="issueToken", summary="Log in: an access/refresh pair",
             responses=errors(400, 401, 413, 415, 422, 429, 503,
                              s401="`invalid_credentials`: unknown user or wrong password (one answer for both)"),
             openapi_extra=TOKEN_BODY)
async def token(request: Request, response: Response) -> TokenPairOut | Response:
    """Log in: an access/refresh pair for JSON ``{username, password}`` or the OAuth 2 password form.
    The refresh form (``grant_type=refresh_token``) is taken here too, as at ``/auth/token/refresh``."""
    if request.headers.get("content-type", "").startswith(FORM) and \
            (await request.form()).get("grant_type") == "refresh_token":
        return await refresh(request)  # RFC 6749 §6 at the token endpoint (RFC 8414 metadata)
    credentials = await read_credentials(request)
    service = service_of(request)
    pair = await service.login(credentials.username, credentials.password, client=client_address(request),
                               device=device_cookie(request))
    remember_device(request, response, credentials.username)
    response.headers.update(NO_STORE)
    return _pair(pair)


async def refresh(request: Request) -> Response:
    """Spend a refresh token for a new pair (JSON ``{refresh_token}`` or the RFC 6749 §6 form).
    A spent token presented again revokes its whole family."""
    body = await read_refresh(request)
    try:
        pair = await service_of(request).refresh(body.refresh_token)
    except InvalidTokenError as exc:
        raise with_expiry(exc, body.refresh_token) from None
    return _PairJSON(pair)


def add_refresh(hot: APIRouter) -> None:
    """Serve ``POST /auth/token/refresh`` from ``hot``, the app's first router (as :func:`add_me`), a
    ``RequestRoute`` (.deps): called without FastAPI's request handler, ~100k instructions a refresh, and
    answered ahead of its router by ``DirectRoutes`` (.direct) in the server's app."""
    hot.add_api_route("/auth/token/refresh", refresh, methods=["POST"], tags=["tokens"], response_model=TokenPairOut,
                      operation_id="refreshToken", summary="Spend a refresh token for a new pair",
                      responses=errors(400, 401, 413, 415, 422, 503), openapi_extra=REFRESH_BODY,
                      route_class_override=RequestRoute)


@router.post("/token/verify", operation_id="verifyToken", summary="Check a token of ours",
             responses=errors(400, 401, 413, 415, 422, 503))
async def verify(body: TokenIn, request: Request) -> dict[str, Any]:
    """``{}`` when the token (access or refresh) is ours, valid and not revoked; 401 otherwise."""
    try:
        await service_of(request).verify_token(body.token)
    except InvalidTokenError as exc:
        raise with_expiry(exc, body.token) from None
    return {}


@router.post("/logout", status_code=204, response_class=Response, operation_id="logout",
             summary="Log out: revoke the refresh family and the access token",
             responses=errors(400, 401, 413, 415, 422, 503))
async def logout(body: RefreshIn, request: Request,
                 principal: Annotated[Principal, Depends(bearer_principal_to_revoke)]) -> Response:
    """Revoke the refresh token's family and deny the access token until it expires."""
    await service_of(request).logout(principal, body.refresh_token)
    return Response(status_code=204)
