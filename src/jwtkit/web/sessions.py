"""The cookie-session endpoints (``/session/...``): the notes' comparison to Bearer tokens.

The ``sessionid`` cookie is ``HttpOnly; SameSite=Lax; Path=/`` with ``Max-Age`` from the service,
and ``Secure`` per ``--cookie-secure`` (by default when the original scheme is HTTPS). Login and
logout refuse cross-site requests (``Origin``/``Sec-Fetch-Site``, see :mod:`.origins`). Every
login sets a fresh random id made by the service (an id the client sends is never adopted; a live
one it sends is ended). Same throttling and error table as the token endpoints.
"""

from __future__ import annotations

from http.cookies import _unquote  # what Starlette unquotes cookies with
from typing import cast

from fastapi import APIRouter, Depends, Request, Response

from jwtkit.auth.errors import InvalidTokenError
from jwtkit.auth.models import User

from .credentials import CREDENTIALS_BODY, SESSION_COOKIE, client_address, device_cookie, read_credentials
from .deps import RequestRoute, service_of
from .devices import remember_device
from .errors import MissingCredentialsError
from .openapi import COOKIE, errors
from .origins import policy_of, same_origin
from .schemas import SessionOut, UserOut
from .tokens import UserJSON

__all__ = ["add_me", "router", "session_cookie"]

router = APIRouter(prefix="/session", tags=["sessions"])

MAX_SESSION_ID_LENGTH = 256
_NO_SESSION = "`missing_credentials` (no cookie) or `invalid_token` (no live session: log in again)"


def session_cookie(request: Request) -> str | None:
    """``request.cookies.get("sessionid")``, read as Starlette reads it (every ``Cookie`` header in
    order, each split at ``;`` and ``=`` and stripped, the last ``sessionid`` winning, its value
    unquoted by ``http.cookies``' rule), without parsing every cookie into a dict: ~15k
    instructions less on each ``/session/me`` (tests/web/test_session_cookie.py holds the two equal)."""
    found = None
    for name, value in request.scope["headers"]:
        if name == b"cookie":
            for chunk in value.decode("latin-1").split(";"):
                key, equals, val = chunk.partition("=")
                if equals and key.strip() == SESSION_COOKIE:
                    found = val
    if found is None:
        return None
    found = found.strip()
    return cast(str, _unquote(found)) if found[:1] == "\"" else found  # _unquote returns anything else unchanged


def _session_id(request: Request) -> str:
    session_id = session_cookie(request)
    if not session_id:
        raise MissingCredentialsError()
    if len(session_id) > MAX_SESSION_ID_LENGTH:
        raise InvalidTokenError("session cookie too long")
    return session_id


def _set_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=policy_of(request).secure(request))


async def _user(request: Request) -> User:
    return await service_of(request).session_user(_session_id(request))


async def me(request: Request) -> Response:
    """The user of the session cookie (one session read)."""
    # Rendered without the response model, by /auth/me's answer (FastAPI's validation and
    # serialization of the model, or a JSONResponse, cost as much here as the session read itself).
    user = await _user(request)
    return UserJSON(user.id, user.username)


def add_me(hot: APIRouter) -> None:
    """Serve ``GET /session/me`` from ``hot``, the app's first router, after ``/auth/me``: routes are
    matched in order, and each router or route passed costs a few µs (see ``jwtkit.web.app``)."""
    hot.add_api_route("/session/me", me, methods=["GET"], tags=["sessions"], response_model=UserOut,
                      operation_id="sessionMe", summary="The user of the session cookie",
                      responses=errors(401, 503, s401=_NO_SESSION), openapi_extra={"security": COOKIE},
                      route_class_override=RequestRoute)


@router.post("/login", response_model=SessionOut, operation_id="sessionLogin", summary="Log in: a session cookie",
             responses=errors(400, 401, 403, 413, 415, 422, 429, 503,
                              s401="`invalid_credentials`: unknown user or wrong password (one answer for both)"),
             openapi_extra=CREDENTIALS_BODY, dependencies=[Depends(same_origin)])
async def login(request: Request, response: Response) -> SessionOut:
    """Open a session: sets the ``sessionid`` cookie (JSON ``{username, password}`` or a form)."""
    credentials = await read_credentials(request)
    service = service_of(request)
    opened = await service.open_session(credentials.username, credentials.password,
                                        client=client_address(request), device=device_cookie(request))
    remember_device(request, response, credentials.username)
    previous = session_cookie(request)
    if previous and previous != opened.session_id and len(previous) <= MAX_SESSION_ID_LENGTH:
        await service.session_logout(previous)
    _set_cookie(request, response, opened.session_id, opened.max_age)
    response.headers["Cache-Control"] = "no-store"
    return SessionOut(id=opened.user.id, username=opened.user.username, expires_in=opened.max_age)


@router.post("/logout", status_code=204, response_class=Response, operation_id="sessionLogout",
             summary="Log out: end the session and clear the cookie",
             responses=errors(401, 403, 503, s401=_NO_SESSION), openapi_extra={"security": COOKIE},
             dependencies=[Depends(same_origin)])
async def logout(request: Request) -> Response:
    """End the session and clear the cookie (401 without a live session)."""
    service = service_of(request)
    session_id = _session_id(request)
    await service.session_user(session_id)
    await service.session_logout(session_id)
    response = Response(status_code=204)
    _set_cookie(request, response, "", 0)
    return response
