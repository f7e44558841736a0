"""JWT (RFC 7519) on top of compact JWS: ``encode``, ``decode``, ``Verifier``, ``decode_unverified``.

``decode`` is ``Verifier(...).verify(token)``: one code path. A ``Verifier`` is built once
(options validated, keys resolved, HMAC contexts keyed) and then verifies many tokens.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .b64 import b64url_encode
from .claims import ClaimsPolicy
from .codec import decode_segment, dumps, loads_object
from .jws import MAX_TOKEN_SIZE, build_header, signature_verifier, split_token
from .keys import Key
from .keyset import KeySet
from .keysource import KeySource

_TIME_CLAIMS = ("exp", "nbf", "iat")
_MAX_NOW = 2.0**53
_CONTAINERS = (dict, list)
# A remembered token: [claims, the names of its list/object claims, then once its claims have passed the
# policy: their time window (``ClaimsPolicy.window``), else None, None].
_Cached = list[Any]


def _copy_json(value: Any) -> Any:
    """A deep copy of parsed JSON (dicts, lists and immutable scalars): faster than ``copy.deepcopy``."""
    if type(value) is dict:
        return {name: _copy_json(item) if type(item) in _CONTAINERS else item for name, item in value.items()}
    return [_copy_json(item) if type(item) in _CONTAINERS else item for item in value]


def _as_numeric_date(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # naive datetimes are UTC, as in PyJWT
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"claim {name!r} must be a datetime or a number of seconds, not {type(value).__name__}")
    return value


def encode(claims: Mapping[str, Any], key: Key, *, headers: Mapping[str, Any] | None = None) -> str:
    """Sign ``claims`` as a JWT (compact JWS) with ``key``.

    The header is ``{"alg": <the key's>, "typ": "JWT", "kid": <the key's, if any>}`` plus
    ``headers`` (a value of ``None`` removes a member, e.g. ``{"typ": None}``).
    ``exp``, ``nbf`` and ``iat`` may be ``datetime`` objects (naive ones are taken as UTC).

    Example::

        token = jwtkit.encode({"user_id": 123, "exp": datetime.now(UTC) + timedelta(minutes=5)}, key)

    Raises:
        TypeError: claims that JSON cannot hold, or a time claim that is not a number/datetime.
        ValueError: a public key, or ``headers`` that conflict with the key.
    """
    if type(claims) is not dict and not isinstance(claims, Mapping):
        raise TypeError(f"claims must be a mapping, not {type(claims).__name__}")
    if type(key) is not Key:
        raise TypeError(f"sign with a jwtkit.Key, not {type(key).__name__} (see Key.from_secret, Key.from_pem)")
    get = claims.get
    if not (type(get("exp", 0)) is int and type(get("iat", 0)) is int and type(get("nbf", 0)) is int):
        claims = {
            name: _as_numeric_date(name, value) if name in _TIME_CLAIMS and value is not None else value
            for name, value in claims.items()
        }
    if headers is None:
        signer = key._default_signer or key._signer_for_default()
        prefix, sign = signer.jwt_prefix, signer.sign
    else:
        alg, header_seg = build_header(key, headers, headers.get("typ", "JWT"))
        prefix, sign = header_seg + b".", key._signer(alg).sign
    signing_input = prefix + b64url_encode(dumps(claims))
    return (signing_input + b"." + b64url_encode(sign(signing_input))).decode("ascii")


class Verifier:
    """A prepared JWT verifier: build it once, call :meth:`verify` per token.

    Args:
        key_or_keyset: the :class:`Key` (public, or the shared secret), a :class:`KeySet`, or a
            :class:`KeySource` such as :class:`jwtkit.JWKSClient` (an issuer's JWKS URL, fetched
            and cached: a token with an unknown ``kid`` makes it look for a newer set, within its
            cooldown). A source that cannot produce keys raises its own error, which is not a
            ``JWTError`` (the token is not at fault): ``jwtkit.JWKSUnavailableError``.
        algorithms: the allowed ``alg`` values. Mandatory; ``none`` is never allowed, and a
            token's ``alg`` must also fit the key that verifies it.
        audience: the audience (or audiences) this service answers to. A token with ``aud``
            is refused when no audience is given (RFC 7519 §4.1.3).
        issuer: the expected ``iss`` (exact string match), or several.
        leeway: seconds (or a timedelta) of clock skew allowed for ``exp``/``nbf``/``iat``.
        required: claim names that must be present, e.g. ``("exp", "jti")``.
        typ: the expected header ``typ`` (media-type comparison, e.g. ``"at+jwt"``).
        max_token_size: longer tokens are refused before any decoding.
        cache_size: remember the signature verification of up to this many distinct tokens
            (0, the default, for none). A cached token is the exact same text whose signature
            already verified with these keys, so only the claims (``exp``, ``nbf``, ...) are
            checked again: for servers that see one token many times within its lifetime.
            Only tokens that verified enter, the oldest leave first. Every call returns its
            own copy of the claims (deep for lists and objects): mutating it cannot change
            what the next ``verify`` of the same token returns. With a ``KeySource`` the
            cache holds only tokens verified with the source's current key set: a new set (a
            refetched JWKS) empties it, so a key the issuer dropped stops verifying at once.

    Example::

        verifier = Verifier(public_key, algorithms=["ES256"], issuer="https://auth.example")
        claims = verifier.verify(token)

    Raises:
        TypeError, ValueError: on misuse, when the verifier is built.
    """

    __slots__ = ("_cache", "_cache_keys", "_cache_order", "_cache_size", "_policy", "_signature", "_source")

    def __init__(
        self,
        key_or_keyset: Key | KeySet | KeySource,
        *,
        algorithms: Iterable[str],
        audience: str | Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        leeway: float | timedelta = 0,
        required: Iterable[str] = (),
        typ: str | None = None,
        max_token_size: int = MAX_TOKEN_SIZE,
        cache_size: int = 0,
    ) -> None:
        self._signature = signature_verifier(
            key_or_keyset, algorithms=algorithms, typ=typ, max_token_size=max_token_size
        )
        self._policy = ClaimsPolicy.build(audience=audience, issuer=issuer, leeway=leeway, required=required)
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError("cache_size must be a non-negative integer")
        self._cache_size = cache_size
        self._cache: dict[str, _Cached] | None = {} if cache_size else None
        # The cache's tokens, oldest first: evicting with ``next(iter(cache))`` instead would scan the
        # deleted slots a dict keeps at its front until it is resized (O(size) per miss once full).
        self._cache_order: deque[str] = deque()
        # With keys that change, the token cache belongs to one key set (see _cache_for_current_keys).
        self._source = key_or_keyset if cache_size and not isinstance(key_or_keyset, Key | KeySet) else None
        self._cache_keys: KeySet | None = None

    def verify(self, token: str | bytes, *, now: float | None = None) -> dict[str, Any]:
        """Verify ``token`` and return its claims.

        ``now`` overrides the clock (a Unix timestamp).

        Raises:
            JWTError: a subclass naming what is wrong; nothing else, for any input.
            JWKSUnavailableError: (a ``KeySource``'s error, not a ``JWTError``) with a JWKS client
                that has no usable key set: the token is not at fault.
        """
        if now is None:
            now = time.time()
        elif type(now) not in (int, float) or not -_MAX_NOW < now < _MAX_NOW:
            raise ValueError(f"now must be a finite Unix timestamp, not {now!r}")
        cache = self._cache
        if cache is None or type(token) is not str:
            _, payload_seg = self._signature.verify(token)
            claims = loads_object(decode_segment(payload_seg, "payload"), "payload")
            self._policy.validate(claims, now)
            return claims
        if self._source is not None:
            cache = self._cache_for_current_keys(self._source)
        cached = cache.get(token)
        if cached is None:
            _, payload_seg = self._signature.verify(token)
            claims = loads_object(decode_segment(payload_seg, "payload"), "payload")
            cached = [claims, tuple(name for name, value in claims.items() if type(value) in _CONTAINERS), None, None]
            self._remember(cache, token, cached)
        verified, nested, start, end = cached
        # Only the time checks can change their answer for claims that passed once: inside their
        # window they pass without the whole policy again; outside it, the policy says why not.
        leeway = self._policy.leeway
        if start is None or not (start <= now + leeway and now - leeway < end):
            self._policy.validate(verified, now)
            if start is None:
                cached[2], cached[3] = self._policy.window(verified)
        # The caller gets its own copy, deep wherever a claim is a list or an object: nothing it
        # mutates (claims["roles"].append(...)) can reach the cache and the next verify.
        claims = dict(verified)
        if not nested:
            return claims
        for name in nested:
            claims[name] = _copy_json(verified[name])
        return claims

    def remembers(self, token: str | bytes) -> bool:
        """Whether ``token``'s signature verified before and is still remembered (``cache_size``):
        then :meth:`verify` checks only its claims, without cryptography. False without a cache,
        and for ``bytes`` (only ``str`` tokens are remembered). Nothing is checked here; call
        :meth:`verify` for the claims either way. With a ``KeySource`` the source is asked for its
        current key set, as :meth:`verify` asks it (a JWKS client may fetch then)."""
        cache = self._cache
        if cache is None:
            return False
        if self._source is not None:
            cache = self._cache_for_current_keys(self._source)
        return token in cache

    def _cache_for_current_keys(self, source: KeySource) -> dict[str, _Cached]:
        keyset = source.keyset()
        cache = self._cache
        if keyset is not self._cache_keys or cache is None:
            self._cache = cache = {}  # verified with other keys: every token verifies again
            self._cache_order = deque()
            self._cache_keys = keyset
        return cache

    def _remember(self, cache: dict[str, _Cached], token: str, cached: _Cached) -> None:
        order = self._cache_order
        while len(cache) >= self._cache_size:
            try:
                cache.pop(order.popleft(), None)  # the oldest first (a token remembered twice: a no-op)
            except IndexError:  # another thread evicted first
                break
        cache[token] = cached
        order.append(token)


def decode(
    token: str | bytes,
    key_or_keyset: Key | KeySet | KeySource,
    *,
    algorithms: Iterable[str],
    audience: str | Iterable[str] | None = None,
    issuer: str | Iterable[str] | None = None,
    leeway: float | timedelta = 0,
    required: Iterable[str] = (),
    typ: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a JWT and return its claims: ``Verifier(...).verify(token, now=now)``.

    For many tokens with the same options, build a :class:`Verifier` once instead.

    Example::

        claims = jwtkit.decode(token, key, algorithms=["HS256"], required=["exp"])

    Raises:
        JWTError: a subclass naming what is wrong with the token.
        TypeError, ValueError: misuse of the options.
    """
    verifier = Verifier(
        key_or_keyset,
        algorithms=algorithms,
        audience=audience,
        issuer=issuer,
        leeway=leeway,
        required=required,
        typ=typ,
    )
    return verifier.verify(token, now=now)


def decode_unverified(token: str | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a token **without verifying anything**: for inspection only.

    Never base a decision on the result; use :func:`decode` or a :class:`Verifier`.

    Raises:
        MalformedTokenError, UnsupportedHeaderError: the token cannot be parsed.
    """
    header_seg, payload_seg, signature_seg = split_token(token, MAX_TOKEN_SIZE)
    header = loads_object(decode_segment(header_seg, "header"), "header")
    claims = loads_object(decode_segment(payload_seg, "payload"), "payload")
    decode_segment(signature_seg, "signature")
    return header, claims
