"""Simple JWT's exceptions, same classes of body and status, so clients see no difference.

``TokenError`` is raised by the token classes with a user-facing message; the views turn it
into :class:`InvalidToken`: ``401 {"detail": "<message>", "code": "token_not_valid"}``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status


class TokenError(Exception):
    """A token that is not valid (the message is safe to show)."""


class ExpiredTokenError(TokenError):
    pass


class SessionRevokedError(TokenError):
    """The token's session was revoked just now (reuse): the revocation must be committed even
    though the request fails (DRF rolls back ``ATOMIC_REQUESTS`` transactions on errors)."""


class DetailDictMixin:
    default_detail: Any
    default_code: str

    def __init__(self, detail: dict[str, Any] | str | None = None, code: str | None = None) -> None:
        detail_dict: dict[str, Any] = {"detail": self.default_detail, "code": self.default_code}
        if isinstance(detail, dict):
            detail_dict.update(detail)
        elif detail is not None:
            detail_dict["detail"] = detail
        if code is not None:
            detail_dict["code"] = code
        super().__init__(detail_dict)  # type: ignore[call-arg]


class AuthenticationFailed(DetailDictMixin, exceptions.AuthenticationFailed):
    pass


class InvalidToken(AuthenticationFailed):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Token is invalid or expired")
    default_code = "token_not_valid"


class DatabaseBusy(exceptions.APIException):
    """The database did not answer in time (a lock wait timed out, a lost connection): nothing was
    spent or revoked, so the client may retry. Simple JWT answers these with a 500."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The token database is busy, try again later.")
    default_code = "database_busy"


class RevocationListUnavailable(exceptions.APIException):
    """The revocation list could not be read within its staleness bound: refuse, do not guess."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Token revocation list unavailable, try again later.")
    default_code = "revocation_list_unavailable"
