"""One table from errors to HTTP answers, and the handlers that apply it: every failure is a JSON body.

==============================  ======  =====================================================
error                           status  extra
==============================  ======  =====================================================
``InvalidInputError``           422     ``fields``: ``[{field, reason}]``
``UsernameTakenError``          409
``InvalidCredentialsError``     401     ``WWW-Authenticate`` challenge, no error code
``ThrottledError``              429     ``Retry-After: <seconds>``
``InvalidTokenError``           401     ``WWW-Authenticate: Bearer error="invalid_token", ...``
``ServiceUnavailableError``     503     ``Retry-After``
``CrossSiteRequestError``       403     a cookie endpoint called from another site
``RegistrationClosedError``     403     ``jwtkit serve --no-register``
other ``AuthError``             400
pydantic body errors            422     ``fields`` (the input itself is never echoed)
malformed JSON                  400     ``invalid_json`` (also not UTF-8, or nested too deep)
body not JSON                   415     ``unsupported_media_type``
Starlette ``HTTPException``     its status (404, 405, 400 ...)
anything else (a bug)           500     logged with its traceback; body ``internal_error``
==============================  ======  =====================================================

Token failures are opaque at the edge but actionable: the code is always
``invalid_token``; the ``message`` (and the challenge's ``error_description``) says what the client
can do, by the error's ``kind``: an expired token says when it expired (``expired_at``, epoch
seconds, also in the body) and to refresh; a revoked token or a reused refresh token says the
session ended (log in again); everything else, forged or malformed, gets one generic sentence.
The service's ``reason`` goes to the log.
Session endpoints (``/session/...``) answer 401 with a ``Cookie`` challenge instead of ``Bearer``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jwtkit.auth.errors import (
    AuthError,
    InvalidCredentialsError,
    InvalidInputError,
    InvalidTokenError,
    RegistrationClosedError,
    ServiceUnavailableError,
    ThrottledError,
    UsernameTakenError,
)

from .credentials import SESSION_COOKIE, UnsupportedMediaTypeError, is_json
from .schemas import error_body

__all__ = ["STATUS_BY_ERROR", "CrossSiteRequestError", "MissingCredentialsError", "error_response",
           "install_error_handlers"]

log = logging.getLogger("jwtkit.web")

REALM = "jwtkit"
INVALID_TOKEN_DESCRIPTION = "The token is not valid: log in again"
ENDED_DESCRIPTION = "The session has ended (logged out, revoked, or a refresh token used twice): log in again"
NO_SESSION_DESCRIPTION = "No live session: log in again"
RETRY_AFTER_UNAVAILABLE = 5

STATUS_BY_ERROR: dict[type[AuthError], int] = {
    InvalidInputError: 422,
    UsernameTakenError: 409,
    InvalidCredentialsError: 401,
    ThrottledError: 429,
    InvalidTokenError: 401,
    ServiceUnavailableError: 503,
    RegistrationClosedError: 403,
}


class CrossSiteRequestError(AuthError):
    """A state-changing cookie request from another site (answered 403; see :mod:`.origins`)."""

    code = "cross_site_request"
    message = "cross-site request refused: this endpoint only accepts requests from its own origin"


class MissingCredentialsError(AuthError):
    """No Bearer token (or no session cookie) in a request that needs one.

    Answered 401 with a bare challenge: RFC 6750 §3.1 says a request that carries no credentials
    gets no error code (so a client can tell "log in first" from "your token is bad").
    """

    code = "missing_credentials"
    message = "authentication required"


def status_of(exc: AuthError) -> int:
    """The HTTP status of an ``AuthError``, looked up along its class hierarchy (default 400)."""
    if isinstance(exc, MissingCredentialsError):
        return 401
    if isinstance(exc, CrossSiteRequestError):
        return 403
    for cls in type(exc).__mro__:
        status = STATUS_BY_ERROR.get(cls)
        if status is not None:
            return status
    return 400


def token_failure_description(request: Request, exc: InvalidTokenError) -> str:
    """The one sentence (ASCII, no quotes: it also goes in a header) a client gets for ``exc``."""
    if request.url.path.startswith("/session/"):
        return NO_SESSION_DESCRIPTION
    if exc.kind == "ended":
        return ENDED_DESCRIPTION
    if exc.kind == "expired":
        when = "" if exc.expires_at is None else " at " + time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                         time.gmtime(exc.expires_at))
        if request.url.path == "/auth/token/refresh":
            return f"The refresh token expired{when}: log in again"
        return f"The token expired{when}: get a new one with your refresh token (POST /auth/token/refresh)"
    return INVALID_TOKEN_DESCRIPTION


def _challenge(request: Request, error: str | None, description: str = INVALID_TOKEN_DESCRIPTION) -> str:
    if request.url.path.startswith("/session/"):
        return f'Cookie realm="{REALM}", cookie-name="{SESSION_COOKIE}"'
    if error is None:
        return f'Bearer realm="{REALM}"'
    return f'Bearer realm="{REALM}", error="{error}", error_description="{description}"'


def error_response(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
    fields: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """A JSON error answer ``{"error": code, "message": message[, "fields": [...]]}``."""
    return JSONResponse(error_body(code, message, fields), status_code=status, headers=headers)


def auth_error_response(request: Request, exc: AuthError) -> JSONResponse:
    """Apply the table to one ``AuthError``."""
    status = status_of(exc)
    headers: dict[str, str] = {}
    fields: list[dict[str, Any]] | None = None
    if isinstance(exc, InvalidTokenError):
        log.info("%s %s: invalid token: %s", request.method, request.url.path, exc.reason)
        description = token_failure_description(request, exc)
        headers["WWW-Authenticate"] = _challenge(request, "invalid_token", description)
        if request.url.path.startswith("/session/"):  # a dead or forged cookie: tell the browser to drop it
            headers["Set-Cookie"] = f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=lax"
        body = error_body(exc.code, description)
        if exc.kind == "expired" and exc.expires_at is not None:
            body["expired_at"] = exc.expires_at
        return JSONResponse(body, status_code=status, headers=headers)
    if status == 401:
        headers["WWW-Authenticate"] = _challenge(request, None)
    elif isinstance(exc, ThrottledError):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, ServiceUnavailableError):
        if exc.__cause__ is not None:  # a storage failure; a stale feed was logged once by the service
            log.warning("%s %s: %s: %r", request.method, request.url.path, exc.reason, exc.__cause__)
        else:
            log.info("%s %s: %s", request.method, request.url.path, exc.reason)
        headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    elif isinstance(exc, InvalidInputError):
        fields = [{"field": exc.field, "reason": exc.reason}]
    return error_response(status, exc.code, exc.message, headers=headers, fields=fields)


async def _on_auth_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthError)
    return auth_error_response(request, exc)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return _invalid_json()
    # a body that was not parsed at all (the framework kept raw bytes): it was not JSON
    unparsed = any(tuple(e.get("loc", ())) == ("body",) and e.get("type") != "missing" for e in errors)
    if unparsed and not is_json(request.headers.get("content-type", "")):
        return _unsupported_media_type(UnsupportedMediaTypeError("the request body as application/json"))
    fields = []
    for e in errors:
        loc = [str(part) for part in e.get("loc", ()) if part != "body"]
        fields.append({"field": ".".join(loc) or "body", "reason": str(e.get("msg", "invalid"))})
    return error_response(422, "invalid_input", "the request is not valid", fields=fields)


async def _on_unsupported_media_type(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnsupportedMediaTypeError)
    return _unsupported_media_type(exc)


def _unsupported_media_type(exc: UnsupportedMediaTypeError) -> JSONResponse:
    return error_response(415, "unsupported_media_type", str(exc))


def _invalid_json() -> JSONResponse:
    return error_response(400, "invalid_json", "the request body is not valid JSON")


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None and is_json(request.headers.get("content-type", "")):
        # FastAPI's "error parsing the body" for JSON its parser could not even start on (not UTF-8,
        # nested too deep): the same answer as any other body that is not JSON
        return _invalid_json()
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
             415: "unsupported_media_type"}
    code = codes.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}))


async def _on_bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s: unhandled error", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    """Register the table's handlers on ``app`` (the last one, for ``Exception``, only sees bugs)."""
    app.add_exception_handler(AuthError, _on_auth_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(UnsupportedMediaTypeError, _on_unsupported_media_type)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_bug)
