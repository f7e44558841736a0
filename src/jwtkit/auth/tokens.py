"""Our token format: signing an access/refresh pair, and checking the claims of a token whose
signature, ``exp``, ``iss`` and ``aud`` the key ring's ``Verifier`` has already checked.

Access: ``token_type: "access"``, ``jti``, ``fid`` (refresh family), ``user_id``, ``username``,
``sub``, ``iat``, ``exp`` (+ ``iss``/``aud`` when configured). Refresh: ``token_type: "refresh"``,
its own ``jti``, the same ``fid``, ``user_id``, ``sub``, ``iat``, ``exp``. Header ``kid``.
"""

from __future__ import annotations

import secrets
from typing import Any

from jwtkit.core.keys import Key
from jwtkit.core.tokens import encode

from .errors import InvalidTokenError
from .models import RefreshRecord, TokenPair, UserRecord
from .settings import AuthSettings

__all__ = ["ACCESS_LIFETIME_LEEWAY", "check_claims", "issue_pair"]

#: Seconds an access token's ``exp - iat`` may exceed the server's ``access_ttl``. Ours have exactly
#: ``access_ttl``; a token whose key leaked could otherwise be minted to live for months.
ACCESS_LIFETIME_LEEWAY = 5


def issue_pair(
    key: Key, settings: AuthSettings, user: UserRecord, family_id: str, now: float
) -> tuple[TokenPair, RefreshRecord]:
    """Sign an access/refresh pair with ``key``; return it and the refresh token's record."""
    iat = int(now)
    common: dict[str, Any] = {"sub": str(user.id), "user_id": user.id, "fid": family_id, "iat": iat}
    if settings.issuer is not None:
        common["iss"] = settings.issuer
    if settings.audience is not None:
        common["aud"] = settings.audience
    access_jti, refresh_jti = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    access = common | {"token_type": "access", "jti": access_jti, "username": user.username,
                       "exp": iat + settings.access_ttl}
    refresh = common | {"token_type": "refresh", "jti": refresh_jti, "exp": iat + settings.refresh_ttl}
    pair = TokenPair(access_token=encode(access, key), refresh_token=encode(refresh, key),
                     expires_in=settings.access_ttl)
    record = RefreshRecord(jti=refresh_jti, family_id=family_id, user_id=user.id, issued_at=now,
                           expires_at=iat + settings.refresh_ttl, access_expires_at=iat + settings.access_ttl,
                           kid=key.kid)
    return pair, record


def check_claims(claims: dict[str, Any], token_type: str | None, *, max_access_lifetime: float) -> dict[str, Any]:
    """Check our claims' values and types (``token_type`` None: access or refresh), and that an
    access token lives no longer than ``max_access_lifetime`` seconds from its ``iat``.

    Raises:
        InvalidTokenError: a claim is wrong.
    """
    kind = claims["token_type"]
    if kind not in ("access", "refresh") or (token_type is not None and kind != token_type):
        raise InvalidTokenError(f"token_type is {kind!r}, expected {token_type or 'access or refresh'!r}")
    # The Verifier required iat and exp and checked both are NumericDates.
    if kind == "access" and claims["exp"] - claims["iat"] > max_access_lifetime:
        raise InvalidTokenError(f"access token lifetime exp - iat exceeds {max_access_lifetime:g} s")
    user_id = claims["user_id"]
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise InvalidTokenError("claim 'user_id' is not an integer")
    if not isinstance(claims["jti"], str) or not isinstance(claims["fid"], str):
        raise InvalidTokenError("claims 'jti' and 'fid' must be strings")
    return claims
