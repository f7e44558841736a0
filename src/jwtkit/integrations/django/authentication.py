"""``JWTAuthentication``: Simple JWT's DRF authentication class, plus revocation.

A token revoked by logout (its ``jti``) or by reuse detection (its family, claim ``sid``) is
refused. The check reads the in-process denylist (:mod:`.denylist`), never the database on the
hot path; the one query per request is the user lookup, as in Simple JWT (the same query, compiled
once: :mod:`.users`).

Example::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["jwtkit.integrations.django.authentication.JWTAuthentication"],
    }
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from rest_framework import HTTP_HEADER_ENCODING, authentication
from rest_framework.request import Request

from .conf import jwt_settings
from .denylist import denylist
from .exceptions import AuthenticationFailed, InvalidToken, RevocationListUnavailable, TokenError
from .tokens import AccessToken, Token
from .users import get_by_natural_id

REVOKED = "Token is blacklisted"


def check_not_revoked(token: Token) -> None:
    """Raise ``TokenError`` when the token's ``jti`` or family is on the denylist.

    Raises:
        TokenError: revoked.
        RevocationListUnavailable: the denylist is past its staleness bound and cannot be read.
    """
    settings = jwt_settings()
    try:
        denied = denylist.is_denied(token.get(settings.jti_claim), token.get(settings.family_claim), settings)
    except DatabaseError as exc:
        raise RevocationListUnavailable() from exc
    if denied:
        raise TokenError(REVOKED)


def validate_access_token(raw_token: str | bytes) -> AccessToken:
    """An access token verified and checked against the denylist, or Simple JWT's ``InvalidToken``."""
    try:
        token = AccessToken(raw_token)
        check_not_revoked(token)
    except TokenError as exc:
        raise InvalidToken(
            {
                "detail": "Given token not valid for any token type",
                "messages": [{"token_class": "AccessToken", "token_type": "access", "message": exc.args[0]}],
            }
        ) from exc
    return token


def split_header(header: bytes | str | None) -> bytes | None:
    """The token from an ``Authorization`` value, None when it is not ours (Simple JWT's rules)."""
    if header is None:
        return None
    if isinstance(header, str):
        header = header.encode(HTTP_HEADER_ENCODING)
    parts = header.split()
    if not parts or parts[0].decode("latin-1") not in jwt_settings().auth_header_types:
        return None
    if len(parts) != 2:
        raise AuthenticationFailed(
            "Authorization header must contain two space-delimited values", code="bad_authorization_header"
        )
    return parts[1]


def get_user(token: Token) -> Any:
    """The user a validated token names; Simple JWT's errors and codes."""
    settings = jwt_settings()
    try:
        user_id = token[settings.user_id_claim]
    except KeyError as exc:
        raise InvalidToken("Token contained no recognizable user identification") from exc
    model = get_user_model()
    try:
        user = get_by_natural_id(model._default_manager, settings.user_id_field, user_id)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise AuthenticationFailed("User not found", code="user_not_found") from exc
    if settings.check_user_is_active and not user.is_active:
        raise AuthenticationFailed("User is inactive", code="user_inactive")
    return user


class JWTAuthentication(authentication.BaseAuthentication):
    """Authenticates ``Authorization: Bearer <access token>``; drop-in for Simple JWT's class."""

    www_authenticate_realm = "api"
    media_type = "application/json"

    def authenticate(self, request: Request) -> tuple[Any, AccessToken] | None:
        raw_token = split_header(self.get_header(request))
        if raw_token is None:
            return None
        token = validate_access_token(raw_token)
        return get_user(token), token

    def authenticate_header(self, request: Request) -> str:
        return f'{jwt_settings().auth_header_types[0]} realm="{self.www_authenticate_realm}"'

    def get_header(self, request: Request) -> bytes | str | None:
        header: bytes | str | None = request.META.get(jwt_settings().auth_header_name)
        return header


class JWTStatelessUserAuthentication(JWTAuthentication):
    """Simple JWT's stateless variant: ``request.user`` is a :class:`~.tokenuser.TokenUser` built from
    the token, so a request makes no database query at all (revocation included)."""

    def authenticate(self, request: Request) -> tuple[Any, AccessToken] | None:
        from .tokenuser import TokenUser

        raw_token = split_header(self.get_header(request))
        if raw_token is None:
            return None
        token = validate_access_token(raw_token)
        if jwt_settings().user_id_claim not in token:
            raise InvalidToken("Token contained no recognizable user identification")
        return TokenUser(token), token


JWTTokenUserAuthentication = JWTStatelessUserAuthentication
