"""``JWTAuthenticationMiddleware``: bearer access tokens for plain Django views (not DRF).

Put it after ``AuthenticationMiddleware``. A request with ``Authorization: Bearer <access token>``
gets ``request.user`` from the token (revocation checked, as in :class:`~.authentication.JWTAuthentication`),
lazily: a view that never reads ``request.user`` pays nothing, and DRF views authenticate on their
own. An invalid token leaves ``AnonymousUser`` and the reason in ``request.jwt_error`` (Simple JWT's
error body, a dict), so a view can answer 401 with it. Without the header, sessions work as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from rest_framework.exceptions import APIException

from .authentication import get_user, split_header, validate_access_token
from .conf import jwt_settings


class JWTAuthenticationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.META.get(jwt_settings().auth_header_name)
        if header is not None:
            fallback = getattr(request, "user", None)
            request.user = SimpleLazyObject(lambda: self._user(request, header, fallback))
        return self.get_response(request)

    @staticmethod
    def _user(request: HttpRequest, header: str, fallback: Any) -> Any:
        try:
            raw = split_header(header)
            if raw is None:
                return fallback if fallback is not None else AnonymousUser()
            return get_user(validate_access_token(raw))
        except APIException as exc:
            request.jwt_error = exc.detail
            return AnonymousUser()
