"""The OpenAPI description of the API (``/openapi.json``, shown at ``/docs``), as the API really is.

**Security schemes.** ``OAuth2Password``: the OAuth 2 password flow with ``tokenUrl`` =
``/auth/token``, so Swagger UI's "Authorize" button logs in with a username and password and then
sends the access token; ``BearerJWT``: the same access token pasted by hand (HTTP bearer);
``SessionCookie``: the ``sessionid`` cookie of the ``/session/...`` endpoints; ``IntrospectionClient``:
HTTP Basic of the resource server that may call ``POST /oauth/introspect`` (:mod:`.oauth`).

**Errors.** Every error answer is ``ErrorOut`` (``{error, message[, fields][, expired_at]}``),
FastAPI's ``{detail}`` never appears: :func:`errors` declares, per operation, the statuses it
really answers, with the headers that come with them (``WWW-Authenticate`` on 401, ``Retry-After``
on 429 and 503). A request head over 64 KiB or 100 fields is refused with 431 before any operation
is chosen (:mod:`.protocol`); the description says so once.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .credentials import SESSION_COOKIE
from .schemas import ErrorOut

__all__ = ["BEARER", "COOKIE", "SECURITY_SCHEMES", "errors", "install_openapi"]

TOKEN_URL = "/auth/token"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "OAuth2Password": {
        "type": "oauth2",
        "description": "Log in with a username and password (POST /auth/token, the OAuth 2 password form); "
                       "the access token is then sent as a Bearer token.",
        "flows": {"password": {"tokenUrl": TOKEN_URL, "scopes": {}}},
    },
    "BearerJWT": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An access token from POST /auth/token or POST /auth/token/refresh.",
    },
    "IntrospectionClient": {
        "type": "http", "scheme": "basic",
        "description": "The introspection client's id and secret (--introspection-client-id, "
                       "JWTKIT_INTROSPECTION_CLIENT_SECRET); or send them as client_id/client_secret form fields.",
    },
    "SessionCookie": {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": "The session cookie set by POST /session/login (HttpOnly; SameSite=Lax).",
    },
}

BEARER: list[dict[str, list[str]]] = [{"OAuth2Password": []}, {"BearerJWT": []}]
"""The ``security`` of an operation that takes an access token (either scheme)."""
COOKIE: list[dict[str, list[str]]] = [{"SessionCookie": []}]
"""The ``security`` of an operation that takes the session cookie."""

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {
    "description": 'The challenge: `Bearer realm="jwtkit"` without credentials, `Bearer realm="jwtkit", '
                   'error="invalid_token", error_description="…"` with a bad token (RFC 6750 §3), or '
                   f'`Cookie realm="jwtkit", cookie-name="{SESSION_COOKIE}"` on the session endpoints',
    "schema": {"type": "string"},
}}

_ERRORS: dict[int, dict[str, Any]] = {
    400: {"description": "`invalid_json`: the body is not JSON (or not UTF-8, or nested too deep); "
                         "`unsupported_grant_type`: a form whose `grant_type` is not this endpoint's (RFC 6749 §5.2)"},
    401: {"description": "`missing_credentials` (no token or cookie), `invalid_credentials` (unknown user or wrong "
                         "password: one answer for both), or `invalid_token`: the message says what to do "
                         "(expired: refresh, with `expired_at`; ended: log in again; otherwise one generic sentence)",
          "headers": _WWW_AUTHENTICATE},
    403: {"description": "`cross_site_request`: a browser page of another origin (`Origin`, `Sec-Fetch-Site`)"},
    409: {"description": "`username_taken`"},
    413: {"description": "`payload_too_large`: the body is over 64 KiB"},
    415: {"description": "`unsupported_media_type`: the body is neither JSON nor a form this endpoint takes"},
    422: {"description": "`invalid_input`: `fields` lists each rejected field and why (the input is not echoed)"},
    429: {"description": "`throttled`: too many failed logins; wait `Retry-After` seconds",
          "headers": _RETRY_AFTER},
    503: {"description": "`service_unavailable`: storage unreachable, or revocations not confirmed current; retry "
                         "after `Retry-After` seconds (do not log in again)",
          "headers": _RETRY_AFTER},
}


def errors(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of an operation for the error ``statuses`` it answers; a keyword
    ``s401="…"`` replaces the description of one status where the operation says more."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry = {"model": ErrorOut, **_ERRORS[status]}
        if f"s{status}" in descriptions:
            entry["description"] = descriptions[f"s{status}"]
        responses[status] = entry
    return responses


def install_openapi(app: FastAPI) -> None:
    """Give ``app`` the schema above: FastAPI's, plus the security schemes not used as dependencies."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes, tags=app.openapi_tags)
            schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    if {"BearerJWT": []} in operation.get("security", []):  # from the dependency: either scheme
                        operation["security"] = BEARER
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
