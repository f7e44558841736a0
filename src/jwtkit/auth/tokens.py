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

__all__ = ["ACCESS_LIFETIME_LEEWAY", "check_claims", "issue_pair", "resign_pair"]

#: Seconds an access token's ``exp - iat`` may exceed the server's ``access_ttl``. Ours have exactly
#: ``access_ttl``; a token whose key leaked could otherwise be minted to live for months.
ACCESS_LIFETIME_LEEWAY = 5


def issue_pair(
    key: Key, settings: AuthSettings, user: UserRecord, family_id: str, now: float
) -> tuple[TokenPair, RefreshRecord]:
    """Sign an access/refresh pair with ``key``; return it and the refresh token's record."""
    iat = int(now)
    record = RefreshRecord(jti=secrets.token_urlsafe(16), family_id=family_id, user_id=user.id, issued_at=now,
                           expires_at=iat + settings.refresh_ttl, access_expires_at=iat + settings.access_ttl,
                           access_jti=secrets.token_urlsafe(16), kid=key.kid)
    return resign_pair(key, settings, user, record), record


def resign_pair(key: Key, settings: AuthSettings, user: UserRecord, record: RefreshRecord) -> TokenPair:
    """Sign the pair ``record`` describes (the refresh token and the access token issued with it):
    the same claims, ``jti``s, ``iat`` and ``exp``s as when it was issued; only the signature may
    differ (ECDSA signatures are randomized anyway, and ``key`` may have been rotated in since).

    Raises:
        ValueError: ``record`` does not describe its access token (stored before schema version 7).
    """
    if record.access_jti is None or record.access_expires_at is None:
        raise ValueError("the refresh record does not describe its access token")
    iat, access_exp = int(record.issued_at), int(record.access_expires_at)
    common: dict[str, Any] = {"sub": str(user.id), "user_id": user.id, "fid": record.family_id, "iat": iat}
    if settings.issuer is not None:
        common["iss"] = settings.issuer
    if settings.audience is not None:
        common["aud"] = settings.audience
    access = common | {"token_type": "access", "jti": record.access_jti, "username": user.username,
                       "exp": access_exp}
    refresh = common | {"token_type": "refresh", "jti": record.jti, "exp": int(record.expires_at)}
    return TokenPair(access_token=encode(access, key), refresh_token=encode(refresh, key),
                     expires_in=access_exp - iat)


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
