"""Reading request bodies that come as JSON or as an OAuth 2 form: the login credentials of
``POST /auth/token`` and ``POST /session/login`` (JSON ``{username, password}`` or the password
form, ``grant_type=password``), and the refresh token of ``POST /auth/token/refresh`` (JSON
``{refresh_token}`` or the RFC 6749 §6 form, ``grant_type=refresh_token``); the client's address
and its device cookie (``jwtkit_device``, set again after each successful login). The names of
the cookies (``SESSION_COOKIE``, ``DEVICE_COOKIE``) are here, once."""

from __future__ import annotations

import ipaddress
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from jwtkit.auth.errors import AuthError

from .schemas import CredentialsIn, RefreshIn, _In

__all__ = ["CREDENTIALS_BODY", "DEVICE_COOKIE", "REFRESH_BODY", "SESSION_COOKIE", "TOKEN_BODY",
           "UnsupportedGrantTypeError", "UnsupportedMediaTypeError", "client_address", "client_bucket", "device_cookie",
           "read_credentials", "read_refresh", "set_device_cookie"]

Body = TypeVar("Body", bound=_In)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _form(grant_type: str, required: list[str], fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI schema of an OAuth 2 form with ``grant_type``."""
    return {"type": "object", "required": required,
            "properties": {"grant_type": {"type": "string", "enum": [grant_type]}, **fields}}


def _json_or_form(model: type[_In], form: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of an endpoint that reads ``model`` as JSON or ``form`` (such
    bodies are read by hand, so declared by hand)."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()},
        "application/x-www-form-urlencoded": {"schema": form},
    }}}


_PASSWORD_FORM = _form("password", ["username", "password"],
                       {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}})
_REFRESH_FORM = _form("refresh_token", ["grant_type", "refresh_token"], {"refresh_token": {"type": "string"}})

CREDENTIALS_BODY = _json_or_form(CredentialsIn, _PASSWORD_FORM)
"""OpenAPI ``requestBody`` of ``POST /session/login``."""

TOKEN_BODY = _json_or_form(CredentialsIn, {"oneOf": [_PASSWORD_FORM, _REFRESH_FORM]})
"""OpenAPI ``requestBody`` of ``POST /auth/token``: the credentials as JSON, or either grant's form
(RFC 6749 §4.3.2 password, §6 refresh), as the token endpoint of the server's metadata takes them."""

REFRESH_BODY = _json_or_form(RefreshIn, _REFRESH_FORM)
"""OpenAPI ``requestBody`` of ``POST /auth/token/refresh`` (RFC 6749 §6)."""


SESSION_COOKIE = "sessionid"
"""The cookie that carries the session id of the ``/session/...`` endpoints."""
DEVICE_COOKIE = "jwtkit_device"
DEVICE_COOKIE_PATHS = ("/auth/token", "/session/login")  # sent to the login endpoints only


def device_cookie(request: Request) -> str | None:
    """The client's device cookie (``jwtkit.auth.devices``), if it sent one."""
    return request.cookies.get(DEVICE_COOKIE) or None


def set_device_cookie(response: Response, value: str, max_age: int, *, secure: bool) -> None:
    """Give the client a device cookie after its successful login: ``HttpOnly; SameSite=Strict``,
    one per login path (``Path`` limits where a browser sends it); ``secure`` as the cookie policy
    (``--cookie-secure``) says."""
    for path in DEVICE_COOKIE_PATHS:
        response.set_cookie(DEVICE_COOKIE, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                            secure=secure)


class UnsupportedMediaTypeError(Exception):
    """The body is not in a media type the endpoint takes (answered 415 ``unsupported_media_type``
    by the error table, :mod:`.errors`); ``accepted`` says what to send instead."""

    def __init__(self, accepted: str = "application/json or application/x-www-form-urlencoded") -> None:
        super().__init__(f"send {accepted}")
        self.accepted = accepted


class UnsupportedGrantTypeError(AuthError):
    """A form whose ``grant_type`` is not the endpoint's (RFC 6749 §5.2: 400 ``unsupported_grant_type``)."""

    code = "unsupported_grant_type"

    def __init__(self, expected: str) -> None:
        super().__init__(f"this endpoint takes grant_type={expected} only")


def client_address(request: Request) -> str:
    """The peer address that login throttling counts against (proxy headers are not trusted).

    An IPv6 client is counted by its /64: one host usually holds a whole /64 (RFC 4291 §2.5.1,
    SLAAC privacy addresses), so counting each address would let it try 2**64 times as often.
    An IPv4-mapped IPv6 address counts as its IPv4 address.
    """
    host = request.client.host if request.client else "unknown"
    return client_bucket(host)


def client_bucket(host: str) -> str:
    """``"2001:db8:1:2::/64"`` for any address in that /64; an IPv4 address or anything else unchanged."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def is_json(media_type: str) -> bool:
    """``application/json`` or any ``application/*+json`` (parameters ignored)."""
    media = media_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_credentials(request: Request) -> CredentialsIn:
    """``{username, password}`` from a JSON body or a form (the ``Content-Type`` says which).

    Raises:
        RequestValidationError: malformed JSON (400) or missing/mistyped fields (422).
        UnsupportedGrantTypeError: a form whose ``grant_type`` is not ``password`` (400).
        UnsupportedMediaTypeError: neither JSON nor a form (415).
    """
    return await _read(request, CredentialsIn, "password")


async def read_refresh(request: Request) -> RefreshIn:
    """``{refresh_token}`` from a JSON body or an RFC 6749 §6 form (``grant_type=refresh_token``).

    Raises: as :func:`read_credentials` (the form's ``grant_type`` must be ``refresh_token``).
    """
    return await _read(request, RefreshIn, "refresh_token")


async def _read(request: Request, model: type[Body], grant_type: str) -> Body:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _FORM_TYPES:
        form = await request.form()
        try:
            if form.get("grant_type", grant_type) != grant_type:
                raise UnsupportedGrantTypeError(grant_type)
            values = {name: form.get(name) for name in model.model_fields}
            return model.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            raise RequestValidationError(_body_errors(exc)) from None
        finally:
            await form.close()
    if media and not is_json(media):
        raise UnsupportedMediaTypeError()
    body = await request.body()
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    if not media:
        raise UnsupportedMediaTypeError()
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(_body_errors(exc)) from None


def _body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]} for e in exc.errors(include_input=False)]
