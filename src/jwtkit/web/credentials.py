"""Reading login credentials, shared by ``POST /auth/token`` and ``POST /session/login``:
JSON ``{username, password}`` or the OAuth 2 password form (``grant_type=password``), the
client's address and its device cookie (``jwtkit_device``, set again after each successful login)."""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from jwtkit.auth.errors import InvalidInputError

from .schemas import CredentialsIn, ErrorOut

__all__ = ["CREDENTIALS_BODY", "DEVICE_COOKIE", "LOGIN_ERRORS", "UnsupportedMediaTypeError", "client_address",
           "client_bucket", "device_cookie", "read_credentials", "set_device_cookie"]

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Unknown user or wrong password (one answer for both)"},
    415: {"model": ErrorOut, "description": "Neither JSON nor a form"},
    422: {"model": ErrorOut, "description": "Invalid input"},
    429: {"model": ErrorOut, "description": "Too many failed logins; see Retry-After"},
}
"""OpenAPI ``responses`` of the two login endpoints."""

CREDENTIALS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": CredentialsIn.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}
"""OpenAPI ``requestBody`` of the two login endpoints (read by hand, so declared by hand)."""


DEVICE_COOKIE = "jwtkit_device"
DEVICE_COOKIE_PATHS = ("/auth/token", "/session/login")  # sent to the login endpoints only


def device_cookie(request: Request) -> str | None:
    """The client's device cookie (``jwtkit.auth.devices``), if it sent one."""
    return request.cookies.get(DEVICE_COOKIE) or None


def set_device_cookie(request: Request, response: Response, value: str, max_age: int) -> None:
    """Give the client a device cookie after its successful login: ``HttpOnly; SameSite=Strict``,
    one per login path (``Path`` limits where a browser sends it), ``Secure`` over HTTPS."""
    for path in DEVICE_COOKIE_PATHS:
        response.set_cookie(DEVICE_COOKIE, value, max_age=max_age, path=path, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")


class UnsupportedMediaTypeError(Exception):
    """The body is neither JSON nor a form (answered 415)."""


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
        InvalidInputError: a form whose ``grant_type`` is not ``password`` (422).
        UnsupportedMediaTypeError: neither JSON nor a form (415).
    """
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _FORM_TYPES:
        form = await request.form()
        try:
            if form.get("grant_type", "password") != "password":
                raise InvalidInputError("grant_type", "only the password grant is supported")
            values = {name: form.get(name) for name in ("username", "password")}
            return CredentialsIn.model_validate({k: v for k, v in values.items() if v is not None})
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
        return CredentialsIn.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(_body_errors(exc)) from None


def _body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]} for e in exc.errors(include_input=False)]
