"""RFC 6750 bearer tokens for the integrations, framework-free: the ``Authorization`` header,
the verifier built from ``jwks_url=`` or ``key=``, the access-token rule, scopes, identity, and
the answers (401 ``invalid_token``, 403 ``insufficient_scope``, 503 with ``Retry-After``).

What a client is told follows STYLE.md §16: an expired token says so (refresh), a refresh
token says so (send the access token), everything else gets one generic sentence; the detailed
reason goes to the ``jwtkit.integrations`` logger.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jwtkit.core.keys import Key
from jwtkit.core.keyset import KeySet
from jwtkit.core.tokens import Verifier
from jwtkit.errors import ExpiredTokenError, InvalidClaimError, JWTError
from jwtkit.jwks import AsyncJWKSClient, AsyncVerifier, JWKSClient, JWKSUnavailableError

log = logging.getLogger("jwtkit.integrations")

_GENERIC = "The access token is not valid."
#: Tokens remembered after their signature verified (``Verifier(cache_size=...)``), as ``jwtkit serve`` does:
#: a client sending one token per request pays the signature check once; the claims are checked every time,
#: and a refetched key set empties the cache.
CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Denial:
    """An answer that refuses the request: status, headers and a JSON body."""

    status: int
    headers: dict[str, str]
    body: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return self.body.get("error_description", "")


class BearerRefused(Exception):
    """Raised inside an integration to answer with ``denial``."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(denial.description or str(denial.status))
        self.denial = denial


@dataclass(frozen=True, slots=True)
class Options:
    """The options every integration takes, checked once."""

    jwks_url: str | None
    key: Any
    algorithms: tuple[str, ...]
    audience: str | Iterable[str] | None
    issuer: str | Iterable[str] | None
    leeway: float | timedelta
    cache_size: int

    def verifier_args(self) -> dict[str, Any]:
        return {"algorithms": self.algorithms, "audience": self.audience, "issuer": self.issuer,
                "leeway": self.leeway, "required": ("exp",), "cache_size": self.cache_size}


def options(
    *, jwks_url: str | None, key: Any, algorithms: Iterable[str] | None, audience: str | Iterable[str] | None,
    issuer: str | Iterable[str] | None, leeway: float | timedelta, cache_size: int = 0,
) -> Options:
    """Check that exactly one of ``jwks_url``/``key`` is given and ``algorithms`` is.

    Raises:
        TypeError, ValueError: misuse, when the integration is built.
    """
    if (jwks_url is None) == (key is None):
        raise TypeError("give exactly one of jwks_url= (the issuer's JWKS URL) or key= (a Key or KeySet)")
    if algorithms is None or isinstance(algorithms, str | bytes):
        raise TypeError("algorithms must be a list of names, e.g. algorithms=['ES256']")
    return Options(jwks_url, key, tuple(algorithms), audience, issuer, leeway, cache_size)


def async_verifier(opts: Options) -> AsyncVerifier:
    """For the async frameworks: ``key=`` may be a Key, KeySet or AsyncJWKSClient."""
    source = AsyncJWKSClient(opts.jwks_url) if opts.jwks_url is not None else opts.key
    if not isinstance(source, Key | KeySet | AsyncJWKSClient):
        raise TypeError(f"key must be a jwtkit.Key, KeySet or AsyncJWKSClient, not {type(source).__name__}")
    return AsyncVerifier(source, **opts.verifier_args())


def sync_verifier(opts: Options) -> Verifier:
    """For Flask: ``key=`` may be a Key, KeySet or JWKSClient."""
    source = JWKSClient(opts.jwks_url) if opts.jwks_url is not None else opts.key
    if not isinstance(source, Key | KeySet | JWKSClient):
        raise TypeError(f"key must be a jwtkit.Key, KeySet or JWKSClient, not {type(source).__name__}")
    return Verifier(source, **opts.verifier_args())


def authorization_of(raw_headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The ``Authorization`` header of an ASGI scope's ``headers`` (None when absent), found without
    building a header map: ASGI servers send header names lowercased, as Starlette assumes. (The server's
    ``web.deps.authorization_header`` is its twin: the layers may not import each other.)"""
    for name, value in raw_headers:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header (RFC 6750 §2.1), or None when there
    is no bearer credential. ``Bearer`` with nothing after it is an invalid token.

    Raises:
        BearerRefused: 401 ``invalid_token`` for ``Bearer`` with an empty or spaced token.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or " " in token:
        raise BearerRefused(invalid_token("the Authorization header's bearer token is empty or malformed"))
    return token


def check_access(claims: Mapping[str, Any]) -> None:
    """A token with ``token_type`` must say ``"access"``: a refresh token is no bearer credential.

    Raises:
        InvalidClaimError: any other ``token_type``.
    """
    kind = claims.get("token_type", "access")
    if kind != "access":
        raise InvalidClaimError(f"token_type is {kind!r:.40}, not 'access'", claim="token_type")


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The token's scopes: ``scope`` (space-separated, RFC 8693 §4.2) and ``scp`` (a list)."""
    scope = claims.get("scope")
    scp = claims.get("scp")
    if scp is None:  # the usual token: one ``scope`` string, split once per distinct string
        return _split_scope(scope) if isinstance(scope, str) else _NO_SCOPES
    found: set[str] = set()
    if isinstance(scope, str):
        found.update(scope.split())
    if isinstance(scp, str):
        found.update(scp.split())
    elif isinstance(scp, list):
        found.update(item for item in scp if isinstance(item, str))
    return frozenset(found)


_NO_SCOPES: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=1024)
def _split_scope(scope: str) -> frozenset[str]:
    """``scope``'s names (only verified tokens' strings reach here; the cache is bounded)."""
    return frozenset(scope.split())


def identity_of(claims: Mapping[str, Any]) -> Any:
    """``sub``, else ``user_id``, else None."""
    sub = claims.get("sub")
    return sub if sub is not None else claims.get("user_id")


def missing() -> Denial:
    """401 for a request without a bearer token (RFC 6750 §3.1: no error code)."""
    return Denial(401, {"WWW-Authenticate": "Bearer"},
                  {"error": "unauthorized", "error_description": "An access token is required."})


def invalid_token(reason: str, error: JWTError | None = None) -> Denial:
    """401 ``invalid_token``; ``reason`` goes to the log, the client gets what it can act on."""
    log.info("bearer token refused: %s", reason)
    if isinstance(error, ExpiredTokenError):
        description = "The access token has expired."
    elif isinstance(error, InvalidClaimError) and error.claim == "token_type":
        description = "This is not an access token."
    else:
        description = _GENERIC
    return Denial(401, {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'},
                  {"error": "invalid_token", "error_description": description})


def refused(error: JWTError) -> Denial:
    return invalid_token(error.reason, error)


def insufficient_scope(required: Iterable[str]) -> Denial:
    """403 ``insufficient_scope`` naming the scopes the request needs (RFC 6750 §3.1)."""
    scope = " ".join(required)
    description = "The access token lacks a scope this request needs."
    return Denial(403, {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}", '
                                            f'error_description="{description}"'},
                  {"error": "insufficient_scope", "error_description": description, "scope": scope})


def unavailable(error: JWKSUnavailableError) -> Denial:
    """503 with ``Retry-After``: the issuer's keys cannot be had; the token is not at fault."""
    log.warning("bearer token not checked: %s", error)
    return Denial(503, {"Retry-After": str(error.retry_after)},
                  {"error": "temporarily_unavailable",
                   "error_description": "The keys to check the access token are unavailable; try again later."})


def require_scopes(claims: Mapping[str, Any], required: Iterable[str]) -> None:
    """Raises BearerRefused (403) when the token lacks one of ``required``."""
    required = tuple(required)
    if required and not scopes_of(claims).issuperset(required):
        raise BearerRefused(insufficient_scope(required))


def verified(claims: dict[str, Any]) -> dict[str, Any]:
    """``claims`` after the access-token rule (BearerRefused when it fails)."""
    try:
        check_access(claims)
    except JWTError as error:
        raise BearerRefused(refused(error)) from None
    return claims


async def claims_of(verifier: AsyncVerifier, raw_headers: Iterable[tuple[bytes, bytes]],
                    scopes: Iterable[str] = ()) -> dict[str, Any] | None:
    """The verified claims of the bearer token in an ASGI scope's ``headers`` (None without one), with
    ``scopes`` required: the token verified, the access-token rule and the scopes checked in one frame,
    the integrations' per-request path.

    Raises:
        BearerRefused: 401 ``invalid_token``, 403 ``insufficient_scope`` or 503.
    """
    token = bearer_token(authorization_of(raw_headers))
    if token is None:
        return None
    try:
        claims = await verifier.verify(token)
    except JWTError as error:
        raise BearerRefused(refused(error)) from None
    except JWKSUnavailableError as error:
        raise BearerRefused(unavailable(error)) from None
    if claims.get("token_type", "access") != "access":  # check_access's rule, inline on the hot path
        verified(claims)
    if scopes:
        require_scopes(claims, scopes)
    return claims


def verify_sync(verifier: Verifier, token: str) -> dict[str, Any]:
    """Verify ``token`` for sync frameworks (BearerRefused with a 401 or a 503 when it cannot be used)."""
    try:
        claims = verifier.verify(token)
    except JWTError as error:
        raise BearerRefused(refused(error)) from None
    except JWKSUnavailableError as error:
        raise BearerRefused(unavailable(error)) from None
    if claims.get("token_type", "access") != "access":
        verified(claims)
    return claims
