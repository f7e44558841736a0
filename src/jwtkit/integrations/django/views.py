"""Simple JWT's views, same URLs-to-be, request and response shapes, statuses and error bodies,
plus :class:`JWKSView` for ``/.well-known/jwks.json``.

Example ``urls.py``::

    from jwtkit.integrations.django.views import TokenObtainPairView, TokenRefreshView

    urlpatterns = [
        path("api/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
        path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    ]
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError, connections
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from . import serializers
from .authentication import split_header
from .backend import get_backend
from .conf import jwt_settings
from .exceptions import AuthenticationFailed, DatabaseBusy, InvalidToken, SessionRevokedError, TokenError
from .tokens import AccessToken

logger = logging.getLogger("jwtkit.integrations.django")


class TokenViewBase(generics.GenericAPIView):
    permission_classes = ()
    authentication_classes = ()
    serializer_class: type[BaseSerializer] | None = None
    www_authenticate_realm = "api"

    def get_authenticate_header(self, request: Request) -> str:
        return f'{jwt_settings().auth_header_types[0]} realm="{self.www_authenticate_realm}"'

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except OperationalError as exc:  # e.g. SQLite's "database is locked" past its timeout
            logger.warning("jwtkit %s: the database failed: %s", type(self).__name__, exc)
            raise DatabaseBusy() from exc
        except TokenError as exc:
            invalid = InvalidToken(exc.args[0])
            invalid.keep_writes = isinstance(exc, SessionRevokedError)
            raise invalid from exc
        return Response(serializer.validated_data, status=status.HTTP_200_OK)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if getattr(exc, "keep_writes", False):  # a revocation for reuse outlives the failed request
            for connection in connections.all(initialized_only=True):
                if connection.settings_dict.get("ATOMIC_REQUESTS") and connection.in_atomic_block:
                    connection.set_rollback(False)
        return response


class TokenObtainPairView(TokenViewBase):
    """Credentials in, ``{"refresh", "access"}`` out; starts a session."""

    serializer_class = serializers.TokenObtainPairSerializer


class TokenRefreshView(TokenViewBase):
    """``{"refresh"}`` in, ``{"access"}`` out (and ``"refresh"`` with ``ROTATE_REFRESH_TOKENS``):
    rotation spends the token exactly once; a second presentation revokes the session."""

    serializer_class = serializers.TokenRefreshSerializer


class TokenVerifyView(TokenViewBase):
    """``{"token"}`` in, ``{}`` out when it is a live access token (see ``VERIFY_TOKEN_TYPES``)."""

    serializer_class = serializers.TokenVerifySerializer


class TokenBlacklistView(TokenViewBase):
    """Logout: ``{"refresh"}`` in, ``{}`` out; revokes the session and the bearer access token sent
    with the request (``Authorization: Bearer …``), which is refused from then on."""

    serializer_class = serializers.TokenBlacklistSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        try:
            raw = split_header(self.request.META.get(jwt_settings().auth_header_name))
            if raw is not None:
                context["access_token"] = AccessToken(raw)
        except (TokenError, AuthenticationFailed):  # a bad bearer token does not stop a logout
            pass
        return context


class JWKSView(APIView):
    """The public verifying keys as a JWKS (RFC 7517): the signing key and retired keys whose
    tokens may still be live. Empty for HMAC algorithms, whose key is a shared secret."""

    permission_classes = ()
    authentication_classes = ()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        keys = get_backend().keys
        response = Response({"keys": list(keys.published)})
        response["Cache-Control"] = "public, max-age=60"
        return response


token_obtain_pair = TokenObtainPairView.as_view()
token_refresh = TokenRefreshView.as_view()
token_verify = TokenVerifyView.as_view()
token_blacklist = TokenBlacklistView.as_view()
jwks = JWKSView.as_view()
