"""Request and response bodies of the HTTP API (pydantic models, shown in the OpenAPI docs at /docs).

Only shapes and JSON types are checked here (``strict``: a number is not a string); the rules on
content (length limits, character set, password policy) belong to the auth service, which raises
``InvalidInputError`` with the field at fault.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CredentialsIn",
    "ErrorOut",
    "FieldErrorOut",
    "IntrospectionOut",
    "OAuthErrorOut",
    "RefreshIn",
    "ServerMetadataOut",
    "SessionOut",
    "TokenIn",
    "TokenPairOut",
    "UserOut",
]


class _In(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class CredentialsIn(_In):
    """A username and a password (register, login)."""

    username: str = Field(examples=["alice"])
    password: str = Field(examples=["correct horse battery staple"])


class RefreshIn(_In):
    """A refresh token to spend (refresh) or revoke (logout)."""

    refresh_token: str


class TokenIn(_In):
    """Any token of ours, access or refresh, to check."""

    token: str


class UserOut(BaseModel):
    """A user as the API shows it."""

    id: int
    username: str


class SessionOut(UserOut):
    """The answer to a session login: the user and the session's lifetime in seconds."""

    expires_in: int


class TokenPairOut(BaseModel):
    """An access/refresh pair (RFC 6749 §5.1 shape); ``expires_in`` is the access token's lifetime."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class FieldErrorOut(BaseModel):
    """One rejected field: where (``field``, dotted) and why."""

    field: str
    reason: str


class ErrorOut(BaseModel):
    """Every error answer: a stable ``error`` code and a human ``message``; ``fields`` for invalid input."""

    error: str
    message: str
    fields: list[FieldErrorOut] | None = None
    expired_at: int | None = Field(default=None, description="401 of an expired token: when it expired "
                                                              "(epoch seconds); refresh it")


class OAuthErrorOut(BaseModel):
    """The error answer of the ``/oauth/...`` endpoints (RFC 6749 §5.2)."""

    error: str = Field(examples=["invalid_request"])
    error_description: str | None = None


class IntrospectionOut(BaseModel):
    """RFC 7662 §2.2: ``{"active": false}`` alone for any token not valid now; the token's
    members otherwise (``token_use``: ``access_token`` or ``refresh_token``)."""

    model_config = ConfigDict(extra="allow")

    active: bool
    scope: str | None = None
    client_id: str | None = None
    username: str | None = None
    token_type: str | None = None
    token_use: str | None = None
    exp: int | None = None
    iat: int | None = None
    nbf: int | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    jti: str | None = None


class ServerMetadataOut(BaseModel):
    """RFC 8414 authorization server metadata (``access_token_profile`` is ours: ``simple`` or ``rfc9068``)."""

    model_config = ConfigDict(extra="allow")

    issuer: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint: str | None = None
    introspection_endpoint_auth_methods_supported: list[str] | None = None
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    response_types_supported: list[str]
    scopes_supported: list[str] | None = None
    service_documentation: str
    access_token_profile: str


def error_body(code: str, message: str, fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON of an :class:`ErrorOut` (built by hand: error paths must not fail)."""
    body: dict[str, Any] = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return body
