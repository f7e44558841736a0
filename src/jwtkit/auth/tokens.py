"""Our token format: the records and signatures of an access/refresh pair, and the ONE place the
claims of a token are checked once the key ring's ``Verifier`` has checked its signature, ``exp``,
``iss``, ``aud`` and that the required claims are present.

Access: ``token_type: "access"``, ``jti``, ``fid`` (refresh family), ``user_id``, ``username``,
``sub``, ``iat``, ``exp`` (+ ``iss``/``aud`` when configured). Refresh: ``token_type: "refresh"``,
its own ``jti``, the same ``fid``, ``user_id``, ``username``, ``sub``, ``iat``, ``exp``; signed HS256
with the key derived from the signing key (see ``jwtkit.auth.keyring``). Header ``kid`` (the
signing key's). A refresh token's ``username`` lets a refresh sign its successor pair while the
store spends it (:func:`refresh_username`); the store's user decides, so it is only ever a guess.

With ``access_token_profile="rfc9068"`` access tokens also carry ``client_id`` and ``scope`` (and
always ``iss``, ``aud``) under the header ``typ: at+jwt`` (RFC 9068 §2.1, §2.2), and
:func:`check_access_typ` refuses access tokens without it (RFC 9068 §4).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal

from jwtkit.core.codec import decode_segment, loads_object
from jwtkit.core.jws import normalize_media_type
from jwtkit.core.keys import Key
from jwtkit.core.tokens import encode
from jwtkit.errors import JWTError

from .errors import InvalidTokenError
from .models import Principal, RefreshRecord, TokenPair, UserRecord
from .settings import AuthSettings

__all__ = ["ACCESS_LIFETIME_LEEWAY", "AT_JWT", "TokenClaims", "check_access_typ", "check_claims", "issue_pair",
           "new_refresh_record", "refresh_username", "resign_pair", "sign_pair"]

#: Seconds an access token's ``exp - iat`` may exceed the server's ``access_ttl``. Ours have exactly
#: ``access_ttl``; a token whose key leaked could otherwise be minted to live for months.
ACCESS_LIFETIME_LEEWAY = 5
AT_JWT = "at+jwt"
"""The ``typ`` of an RFC 9068 access token (``application/at+jwt`` is the same media type)."""


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[object, Any], None], ...]:
    """The setters of the slots ``names`` of the frozen slotted dataclass ``cls``, which must be all
    of its fields and have no ``__post_init__``: ``_new_principal`` and ``_new_token_claims`` build
    instances with them, without the generated ``__init__``, which sets each field through
    ``object.__setattr__`` (the price of ``frozen``) at about twice the cost, and ``/auth/me``
    builds two such objects per request."""
    if tuple(f.name for f in fields(cls)) != names or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} changed: update its fast constructor in jwtkit.auth.tokens")
    return tuple(cls.__dict__[name].__set__ for name in names)


def new_refresh_record(key: Key, settings: AuthSettings, user_id: int, family_id: str, now: float) -> RefreshRecord:
    """The record of a pair to be signed with ``key`` at ``now`` (fresh ``jti``s, the ``exp``s);
    nothing is signed: a refresh stores it first and signs only once the store said yes."""
    iat = int(now)
    return RefreshRecord(jti=secrets.token_urlsafe(16), family_id=family_id, user_id=user_id, issued_at=now,
                         expires_at=iat + settings.refresh_ttl, access_expires_at=iat + settings.access_ttl,
                         access_jti=secrets.token_urlsafe(16), kid=key.kid)


def issue_pair(
    key: Key, refresh_key: Key, settings: AuthSettings, user: UserRecord, family_id: str, now: float
) -> tuple[TokenPair, RefreshRecord]:
    """Sign a new access/refresh pair (the access token with ``key``, the refresh token with
    ``refresh_key``); return it and the refresh token's record."""
    record = new_refresh_record(key, settings, user.id, family_id, now)
    return resign_pair(key, refresh_key, settings, user, record), record


def resign_pair(key: Key, refresh_key: Key, settings: AuthSettings, user: UserRecord,
                record: RefreshRecord) -> TokenPair:
    """Sign the pair ``record`` describes (the refresh token with ``refresh_key``, the access
    token issued with it with ``key``): the same claims, ``jti``s, ``iat`` and ``exp``s as when it
    was issued; only the signature may differ (ECDSA signatures are randomized anyway, and the
    keys may have been rotated in since).

    Raises:
        ValueError: ``record`` does not describe its access token (stored before schema version 7).
    """
    return sign_pair(key, refresh_key, settings, user.id, user.username, record)


def sign_pair(key: Key, refresh_key: Key, settings: AuthSettings, user_id: int, username: str,
              record: RefreshRecord) -> TokenPair:
    """:func:`resign_pair` for the user ``user_id`` named ``username``.

    Raises:
        ValueError: ``record`` does not describe its access token (stored before schema version 7).
    """
    if record.access_jti is None or record.access_expires_at is None:
        raise ValueError("the refresh record does not describe its access token")
    iat, access_exp = int(record.issued_at), int(record.access_expires_at)
    common: dict[str, Any] = {"sub": str(user_id), "user_id": user_id, "fid": record.family_id, "iat": iat,
                              "username": username}
    if settings.issuer is not None:
        common["iss"] = settings.issuer
    if settings.audience is not None:
        common["aud"] = settings.audience
    access = common | {"token_type": "access", "jti": record.access_jti, "exp": access_exp}
    refresh = common | {"token_type": "refresh", "jti": record.jti, "exp": int(record.expires_at)}
    if settings.access_token_profile == "rfc9068":  # RFC 9068 §2.2
        access |= {"client_id": settings.access_token_client_id, "scope": settings.access_token_scope}
        access_token = encode(access, key, headers={"typ": AT_JWT})
    else:
        access_token = encode(access, key)
    return TokenPair(access_token=access_token, refresh_token=encode(refresh, refresh_key),
                     expires_in=access_exp - iat)


def refresh_username(claims: TokenClaims) -> str | None:
    """The ``username`` a refresh token names (older refresh tokens name none): a
    guess at its user's name, for signing ahead; the store's answer decides."""
    username = claims.raw.get("username")
    return username if type(username) is str else None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenClaims:
    """The claims of one of our tokens, checked: typed fields and the raw dict."""

    token_type: Literal["access", "refresh"]
    jti: str
    family_id: str
    user_id: int
    username: str | None  # access tokens only
    exp: int
    raw: dict[str, Any]

    def principal(self) -> Principal:
        """Who an access token speaks for (call on an access token's claims only)."""
        assert self.username is not None, "an access token's claims"
        return _new_principal(self.user_id, self.username, self.jti, self.exp, self.family_id, self.raw)


_PRINCIPAL = _slot_setters(Principal, ("user_id", "username", "jti", "exp", "family_id", "claims"))
_TOKEN_CLAIMS = _slot_setters(TokenClaims, ("token_type", "jti", "family_id", "user_id", "username", "exp", "raw"))


def _new_principal(user_id: int, username: str, jti: str, exp: int, family_id: str, claims: dict[str, Any],
                   ) -> Principal:
    """``Principal(user_id=..., ...)``, faster (see ``_slot_setters``)."""
    p = object.__new__(Principal)
    s = _PRINCIPAL
    s[0](p, user_id), s[1](p, username), s[2](p, jti), s[3](p, exp), s[4](p, family_id), s[5](p, claims)
    return p


def _new_token_claims(token_type: str, jti: str, family_id: str, user_id: int, username: str | None, exp: int,
                      raw: dict[str, Any]) -> TokenClaims:
    """``TokenClaims(token_type=..., ...)``, faster (see ``_slot_setters``)."""
    t = object.__new__(TokenClaims)
    s = _TOKEN_CLAIMS
    s[0](t, token_type), s[1](t, jti), s[2](t, family_id), s[3](t, user_id), s[4](t, username), s[5](t, exp)
    s[6](t, raw)
    return t


def check_claims(claims: dict[str, Any], token_type: str | None, *, max_access_lifetime: float) -> TokenClaims:
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
    jti, family_id = claims["jti"], claims["fid"]
    if not isinstance(jti, str) or not isinstance(family_id, str):
        raise InvalidTokenError("claims 'jti' and 'fid' must be strings")
    username = claims.get("username")
    if kind == "access" and not isinstance(username, str):
        raise InvalidTokenError("claim 'username' is missing or not a string")
    return _new_token_claims(kind, jti, family_id, user_id, username if kind == "access" else None,
                             int(claims["exp"]), claims)


def check_access_typ(token: str) -> None:
    """RFC 9068 §4: an access token's header ``typ`` must be ``at+jwt`` (``application/at+jwt``).
    Call it only after the signature verified (the header is read again here, not trusted before).

    Raises:
        InvalidTokenError: another ``typ``, or none.
    """
    typ = _header_typ(token.split(".", 1)[0])
    if typ != AT_JWT:
        raise InvalidTokenError(f"access token typ is {typ!r:.40}, expected {AT_JWT!r} (RFC 9068 §4)")


@functools.lru_cache(maxsize=64)
def _header_typ(segment: str) -> str | None:
    """The normalized ``typ`` of a header segment. Cached: our signed tokens share a handful of
    headers (one per key), and only tokens whose signature verified get here."""
    try:
        header = loads_object(decode_segment(segment.encode("ascii"), "header"), "header")
    except (JWTError, UnicodeEncodeError):
        return None
    typ = header.get("typ")
    return normalize_media_type(typ) if isinstance(typ, str) else None
