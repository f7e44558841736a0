"""The OAuth token endpoints that resource servers and OAuth client libraries integrate with:
``POST /oauth/revoke`` (RFC 7009), ``POST /oauth/introspect`` (RFC 7662) and the authorization
server metadata at ``/.well-known/oauth-authorization-server`` (RFC 8414).

They speak OAuth, not the rest of the API's dialect: form-encoded parameters
(``application/x-www-form-urlencoded``, nothing else), and errors as RFC 6749 §5.2 bodies
``{"error", "error_description"}`` — a body that is not such a form, a parameter sent twice or a
missing ``token`` is 400 ``invalid_request`` (never 422), storage down is 503
``temporarily_unavailable`` with ``Retry-After`` (RFC 7009 §2.2.1).

**Revocation** takes no client authentication: every client of this server is public (a first-party
login API hands out tokens to whoever logs in, and registers no clients), and RFC 7009 §2.1 lets a
public client revoke with the token alone: holding the token is the proof, and whoever holds it
could use it anyway. Answers 200 for any token, unknown and invalid ones included (§2.2), except
a ``token_type_hint`` that names a type this server neither issues nor revokes (400
``unsupported_token_type``, §2.2.1). Our tokens say what they are, so a wrong but known hint
changes nothing.

**Introspection** is for one confidential client, the resource server: its ``client_id`` and
secret come from the settings (HTTP Basic, RFC 6749 §2.3.1, or ``client_secret_post``), compared in
constant time; without a configured secret the endpoint does not exist (404).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jwtkit.auth.errors import ServiceUnavailableError
from jwtkit.auth.service import AuthService

from .deps import service_of
from .headers import NO_STORE
from .schemas import ErrorOut, IntrospectionOut, OAuthErrorOut, ServerMetadataOut

__all__ = ["METADATA_PATH", "OAuthError", "router"]

router = APIRouter(tags=["oauth"])

METADATA_PATH = "/.well-known/oauth-authorization-server"
FORM = "application/x-www-form-urlencoded"
TOKEN_TYPE_HINTS = ("access_token", "refresh_token")
BASIC_CHALLENGE = 'Basic realm="jwtkit"'
RETRY_AFTER = 5
_MAX_FIELDS = 32


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer of the ``/oauth/...`` endpoints."""

    def __init__(self, error: str, description: str, *, status: int = 400,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.headers = error, description, status, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description}, status_code=self.status,
                            headers=NO_STORE | self.headers)


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401, headers={"WWW-Authenticate": BASIC_CHALLENGE})


async def read_form(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    """The parameters ``names`` of a form-encoded body; other parameters are ignored (RFC 6749 §3.1).

    Raises:
        OAuthError: ``invalid_request``: not a form, not UTF-8, too many fields, or one of ``names`` twice.
    """
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != FORM:
        raise OAuthError("invalid_request", f"send the parameters as {FORM}")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, errors="strict",
                          max_num_fields=_MAX_FIELDS)
    except ValueError:  # UnicodeDecodeError included
        raise OAuthError("invalid_request", "the body is not a valid UTF-8 form") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in names:
            if name in values:  # RFC 6749 §3.1: parameters MUST NOT be sent more than once
                raise OAuthError("invalid_request", f"the parameter {name} is repeated")
            values[name] = value
    return values


def _token(form: dict[str, str]) -> str:
    token = form.get("token", "")
    if not token:
        raise OAuthError("invalid_request", "the token parameter is required")
    return token


def basic_credentials(authorization: str) -> tuple[str, str]:
    """``(client_id, client_secret)`` of an ``Authorization: Basic`` header, as sent (RFC 6749
    §2.3.1 wants each form-urlencoded first; most clients, httpx and requests included, do not).

    Raises:
        OAuthError: ``invalid_client`` (401): another scheme, or not such a header.
    """
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("authenticate with HTTP Basic (client_id:client_secret) or client_secret_post")
    try:
        decoded = base64.b64decode(value.strip(" "), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_client("malformed Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid_client("malformed Basic credentials")
    return client_id, secret


def _authenticate(request: Request, service: AuthService, form: dict[str, str]) -> None:
    """Raises ``OAuthError`` unless the request carries the introspection client's credentials
    by exactly one method (RFC 6749 §2.3)."""
    authorization = request.headers.get("authorization")
    posted = "client_secret" in form
    if authorization and posted:
        raise OAuthError("invalid_request", "use one client authentication method, not two (RFC 6749 §2.3)")
    check = service.introspection.client_authenticated
    if authorization:
        client_id, secret = basic_credentials(authorization)
        # as sent, or form-urlencoded as RFC 6749 §2.3.1 says (both checked, in constant time)
        authenticated = check(client_id, secret) | check(unquote_plus(client_id), unquote_plus(secret))
    elif posted:
        authenticated = check(form.get("client_id", ""), form["client_secret"])
    else:
        raise _invalid_client("client authentication required")
    if not authenticated:
        raise _invalid_client("client authentication failed")


def _unavailable() -> JSONResponse:
    return OAuthError("temporarily_unavailable", "storage or revocation state unavailable: retry later",
                      status=503, headers={"Retry-After": str(RETRY_AFTER)}).response()


def _form_body(properties: dict[str, Any], *, client_secret_post: bool = False) -> dict[str, Any]:
    if client_secret_post:
        properties = properties | {"client_id": {"type": "string"},
                                   "client_secret": {"type": "string", "format": "password"}}
    schema = {"type": "object", "required": ["token"], "properties": properties}
    return {"requestBody": {"required": True, "content": {FORM: {"schema": schema}}}}


_TOKEN_FIELDS: dict[str, Any] = {
    "token": {"type": "string", "description": "an access or refresh token"},
    "token_type_hint": {"type": "string", "enum": list(TOKEN_TYPE_HINTS)},
}
_ERROR = {"model": OAuthErrorOut}
_413 = {"model": ErrorOut, "description": "`payload_too_large`: the body is over 64 KiB (the API's own error shape)"}
_400 = _ERROR | {"description": "`invalid_request`: not a form, a parameter repeated, or no `token`"}
_503 = _ERROR | {"description": "`temporarily_unavailable`: storage down or revocations not confirmed "
                                "current; retry after `Retry-After` seconds",
                 "headers": {"Retry-After": {"schema": {"type": "integer"}}}}


@router.post("/oauth/revoke", operation_id="revokeToken", summary="Revoke a token (RFC 7009)",
             response_class=Response,
             responses={200: {"description": "Revoked, or nothing to revoke (unknown, invalid or expired token)",
                              "content": {}},
                        400: _ERROR | {"description": "`invalid_request` (not a form, a parameter repeated, no "
                                                      "`token`) or `unsupported_token_type` (a `token_type_hint` "
                                                      "other than access_token, refresh_token)"},
                        413: _413, 503: _503},
             openapi_extra=_form_body(_TOKEN_FIELDS) | {"security": []})
async def revoke(request: Request) -> Response:
    """Revoke a refresh token's whole family (its access tokens too) or an access token (its
    ``jti`` is denied until it expires). No client authentication: our clients are public."""
    try:
        form = await read_form(request, ("token", "token_type_hint"))
        token = _token(form)
        hint = form.get("token_type_hint")
        if hint is not None and hint not in TOKEN_TYPE_HINTS:
            raise OAuthError("unsupported_token_type", "this server issues and revokes access_token and "
                                                       "refresh_token only")
        await service_of(request).revoke_token(token)
    except OAuthError as exc:
        return exc.response()
    except ServiceUnavailableError:
        return _unavailable()
    return Response(status_code=200, headers=NO_STORE)


@router.post("/oauth/introspect", operation_id="introspectToken", summary="Introspect a token (RFC 7662)",
             response_model=IntrospectionOut, response_model_exclude_none=True,
             responses={400: _400,
                        401: _ERROR | {"description": "`invalid_client`: no, malformed or wrong client credentials",
                                       "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
                        404: {"model": ErrorOut, "description": "`not_found`: introspection is off (no client "
                                                               "secret configured), as if it did not exist"},
                        413: _413, 503: _503},
             openapi_extra=_form_body(_TOKEN_FIELDS, client_secret_post=True)
             | {"security": [{"IntrospectionClient": []}, {}]})
async def introspect(request: Request) -> Response:
    """Whether a token is valid now (`active`) and, if so, its claims. For the resource server
    configured with ``--introspection-client-id`` / ``JWTKIT_INTROSPECTION_CLIENT_SECRET``."""
    service = service_of(request)
    if not service.introspection.enabled:
        raise HTTPException(404, "Not Found")  # off: as if it did not exist
    try:
        form = await read_form(request, ("token", "token_type_hint", "client_id", "client_secret"))
        _authenticate(request, service, form)
        token = _token(form)  # any token_type_hint is fine here: ours say what they are (§2.1)
        answer = await service.introspection.introspect(token)
    except OAuthError as exc:
        return exc.response()
    except ServiceUnavailableError:
        return _unavailable()
    return JSONResponse(answer, headers=NO_STORE)


@router.get(METADATA_PATH, operation_id="authorizationServerMetadata", response_model=ServerMetadataOut,
            response_model_exclude_none=True, summary="Authorization server metadata (RFC 8414)", tags=["meta"])
async def metadata(request: Request) -> JSONResponse:
    """Where the token, revocation, introspection (when on) and key endpoints are, and how to use them."""
    return JSONResponse(server_metadata(service_of(request), str(request.base_url)),
                        headers={"Cache-Control": "public, max-age=60"})


def server_metadata(service: AuthService, request_base: str) -> dict[str, Any]:
    """The RFC 8414 §2 metadata. ``issuer`` is the configured issuer (set it to the server's public
    URL: clients compare it with where they fetched this, §3.3), else the URL of the request; the
    endpoints are under the issuer when it is an http(s) URL, else under the request's URL."""
    settings = service.settings
    request_base = request_base.rstrip("/")
    issuer = settings.issuer or request_base
    parts = urlsplit(issuer)
    base = issuer.rstrip("/") if parts.scheme in ("http", "https") and parts.netloc else request_base
    answer: dict[str, Any] = {
        "issuer": issuer,
        "token_endpoint": f"{base}/auth/token",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "revocation_endpoint_auth_methods_supported": ["none"],
        "grant_types_supported": ["password", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": [],  # no authorization endpoint
        "service_documentation": f"{base}/docs",
        "access_token_profile": settings.access_token_profile,
    }
    if settings.access_token_profile == "rfc9068":
        answer["scopes_supported"] = settings.access_token_scope.split(" ")
    if service.introspection.enabled:
        answer["introspection_endpoint"] = f"{base}/oauth/introspect"
        answer["introspection_endpoint_auth_methods_supported"] = ["client_secret_basic", "client_secret_post"]
    return answer
