"""Compact JWS (RFC 7515 §7.1): split, check the header, verify the signature; and signing.

This is the layer under JWT. The header rules (RFC 8725 §3.1, RFC 7515 §4.1.11):

- ``alg`` must be a string, never ``none`` in any casing, in the caller's ``algorithms``,
  **and** fit the verifying key; the key is never chosen by the token.
- ``crit`` is refused: jwtkit implements no extension that could be critical.
- ``jwk``, ``jku``, ``x5u``, ``x5c`` are never used: keys come from the caller only.
- five segments (JWE) and ``enc`` are refused with a clear "JWE is not supported".

Headers that passed these checks are cached per verifier by their encoded bytes, so a
server verifying tokens from one issuer parses each distinct header once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jwtkit.errors import (
    AlgorithmNotAllowedError,
    InvalidClaimError,
    InvalidSignatureError,
    MalformedTokenError,
    UnsupportedHeaderError,
)

from .algorithms import ALGORITHMS, Verify
from .b64 import b64url_encode
from .codec import decode_segment, loads_object
from .keys import Key
from .keyset import KeySet
from .keysource import KeySource
from .signer import encode_header

#: Tokens longer than this (in characters) are refused before any decoding.
MAX_TOKEN_SIZE = 16 * 1024
_HEADER_CACHE_SIZE = 64


def normalize_media_type(value: str) -> str:
    """RFC 7515 §4.1.9: compare case-insensitively, with ``application/`` optional."""
    value = value.lower()
    if value.startswith("application/") and "/" not in value[12:]:
        return value[12:]
    return value


def split_token(token: str | bytes, max_size: int) -> tuple[bytes, bytes, bytes]:
    """The three segments of a compact JWS, or a MalformedTokenError."""
    if type(token) is str:
        if len(token) > max_size:
            raise MalformedTokenError(f"the token is longer than {max_size} characters")
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("the token contains non-ASCII characters") from None
    elif isinstance(token, bytes | bytearray):
        if len(token) > max_size:
            raise MalformedTokenError(f"the token is longer than {max_size} bytes")
        raw = bytes(token)
    else:
        raise MalformedTokenError(f"a token must be a string, not {type(token).__name__}")
    parts = raw.split(b".")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 5:
        raise UnsupportedHeaderError("the token is a JWE (5 segments); JWE is not supported")
    raise MalformedTokenError(
        f"a JWS has 3 dot-separated segments, this token has {len(parts)}"
        + (" (is it a JSON serialization?)" if raw[:1] == b"{" else "")
    )


def check_header(header: dict[str, Any]) -> str:
    """The header rules every verifier applies; returns the ``alg``."""
    alg = header.get("alg")
    if type(alg) is not str:
        raise MalformedTokenError("the header has no 'alg' string", claim="alg")
    if alg.lower() == "none":
        raise AlgorithmNotAllowedError("alg 'none' (an unsigned token) is never accepted", claim="alg")
    if "enc" in header:
        raise UnsupportedHeaderError("the header has 'enc': JWE is not supported", claim="enc")
    if "crit" in header:
        raise UnsupportedHeaderError(
            f"the header marks {header['crit']!r:.80} critical; jwtkit understands no critical extension",
            claim="crit",
        )
    if "b64" in header:
        raise UnsupportedHeaderError("unencoded payloads ('b64', RFC 7797) are not supported", claim="b64")
    kid = header.get("kid")
    if kid is not None and type(kid) is not str:
        raise MalformedTokenError("the header 'kid' must be a string", claim="kid")
    typ = header.get("typ")
    if typ is not None and type(typ) is not str:
        raise MalformedTokenError("the header 'typ' must be a string", claim="typ")
    return alg


def parse_algorithms(algorithms: Iterable[str]) -> frozenset[str]:
    """Validate the caller's ``algorithms`` (API misuse raises TypeError/ValueError)."""
    if isinstance(algorithms, str | bytes):
        raise TypeError(f"algorithms must be a list of names, e.g. [{algorithms!r}], not a string")
    names = frozenset(algorithms)
    if not names:
        raise ValueError("algorithms must name at least one algorithm")
    for name in names:
        if not isinstance(name, str) or name.lower() == "none":
            raise ValueError(f"{name!r} can never be an allowed algorithm")
        if name not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {name!r}; supported: {', '.join(ALGORITHMS)}")
    return names


class SignatureVerifier:
    """Verifies compact JWS signatures against fixed keys and allowed algorithms.

    Everything that does not depend on the token is prepared in ``__init__``.
    """

    __slots__ = ("_algorithms", "_cache", "_key", "_keyset", "_max_size", "_typ")

    def __init__(
        self,
        key_or_keyset: Key | KeySet,
        *,
        algorithms: Iterable[str],
        typ: str | None = None,
        max_token_size: int = MAX_TOKEN_SIZE,
    ) -> None:
        self._prepare(algorithms, typ, max_token_size)
        if isinstance(key_or_keyset, Key):
            if not any(key_or_keyset.fits(a) for a in self._algorithms):
                raise ValueError(
                    f"this {key_or_keyset.kty} key (alg {key_or_keyset.alg}) fits none of the allowed "
                    f"algorithms {sorted(self._algorithms)}"
                )
            self._key: Key | None = key_or_keyset
            self._keyset: KeySet | None = None
        elif isinstance(key_or_keyset, KeySet):
            if not any(key.fits(a) for key in key_or_keyset for a in self._algorithms):
                raise ValueError(f"no key of this KeySet fits the allowed algorithms {sorted(self._algorithms)}")
            self._key, self._keyset = None, key_or_keyset
        else:
            raise TypeError(
                f"verify with a jwtkit.Key, KeySet or JWKSClient, not {type(key_or_keyset).__name__} "
                "(load raw material with Key.from_secret, Key.from_pem or Key.from_jwk)"
            )

    def _prepare(self, algorithms: Iterable[str], typ: str | None, max_token_size: int) -> None:
        self._algorithms = parse_algorithms(algorithms)
        if typ is not None and not isinstance(typ, str):
            raise TypeError("typ must be a string such as 'JWT' or 'at+jwt'")
        self._typ = normalize_media_type(typ) if typ is not None else None
        if not isinstance(max_token_size, int) or max_token_size < 64:
            raise ValueError("max_token_size must be an integer of at least 64")
        self._max_size = max_token_size
        self._cache: dict[bytes, tuple[dict[str, Any], Verify]] = {}

    def verify(self, token: str | bytes) -> tuple[dict[str, Any], bytes]:
        """Check the signature; return the (shared, read-only) header and the payload segment."""
        header_seg, payload_seg, signature_seg = split_token(token, self._max_size)
        cached = self._cache.get(header_seg)
        if cached is None:
            cached = self._resolve(header_seg)
        header, verify = cached
        signature = decode_segment(signature_seg, "signature")
        if not verify(header_seg + b"." + payload_seg, signature):
            raise InvalidSignatureError("the signature does not match the header and payload")
        return header, payload_seg

    def _resolve(self, header_seg: bytes) -> tuple[dict[str, Any], Verify]:
        header, alg = self._checked_header(header_seg)
        if self._key is not None:
            key = self._key
            if not key.fits(alg):
                raise AlgorithmNotAllowedError(
                    f"the token says {alg} but the key is {key.kty} bound to {key.alg or key.crv or 'its family'}",
                    claim="alg",
                )
        else:
            assert self._keyset is not None
            key = self._keyset.find(header.get("kid"), alg)
        entry = (header, key._verifier(alg))
        _remember(self._cache, header_seg, entry)
        return entry

    def _checked_header(self, header_seg: bytes) -> tuple[dict[str, Any], str]:
        header = loads_object(decode_segment(header_seg, "header"), "header")
        alg = check_header(header)
        if alg not in self._algorithms:
            raise AlgorithmNotAllowedError(
                f"algorithm {alg!r:.40} is not allowed; expected {' or '.join(sorted(self._algorithms))}",
                claim="alg",
            )
        if self._typ is not None:
            typ = header.get("typ")
            if typ is None or normalize_media_type(typ) != self._typ:
                raise InvalidClaimError(f"the header typ is {typ!r:.40}, expected {self._typ!r}", claim="typ")
        return header, alg


class SourcedSignatureVerifier(SignatureVerifier):
    """A :class:`SignatureVerifier` whose keys come from a :class:`KeySource` and may change.

    The source is asked for its key set per token; resolved headers are cached per key set, so
    a key the issuer dropped stops verifying as soon as the source holds a set without it. A
    ``kid`` the set lacks asks the source once for a newer set (the source decides whether it
    may fetch).
    """

    __slots__ = ("_source", "_state")

    def __init__(
        self, source: KeySource, *, algorithms: Iterable[str], typ: str | None = None,
        max_token_size: int = MAX_TOKEN_SIZE,
    ) -> None:
        self._prepare(algorithms, typ, max_token_size)
        self._key, self._keyset, self._source = None, None, source
        self._state: tuple[KeySet | None, dict[bytes, tuple[dict[str, Any], Verify]]] = (None, {})

    def verify(self, token: str | bytes) -> tuple[dict[str, Any], bytes]:
        header_seg, payload_seg, signature_seg = split_token(token, self._max_size)
        keyset = self._source.keyset()
        seen, cache = self._state
        if keyset is not seen:
            self._state = (keyset, cache := {})
        cached = cache.get(header_seg)
        if cached is None:
            cached = self._resolve_in(header_seg, keyset, cache)
        header, verify = cached
        signature = decode_segment(signature_seg, "signature")
        if not verify(header_seg + b"." + payload_seg, signature):
            raise InvalidSignatureError("the signature does not match the header and payload")
        return header, payload_seg

    def _resolve_in(
        self, header_seg: bytes, keyset: KeySet, cache: dict[bytes, tuple[dict[str, Any], Verify]]
    ) -> tuple[dict[str, Any], Verify]:
        header, alg = self._checked_header(header_seg)
        kid = header.get("kid")
        if kid is not None and kid not in keyset:
            newer = self._source.keyset_for(kid)
            if newer is not keyset:
                keyset = newer
                self._state = (keyset, cache := {})
        entry = (header, keyset.find(kid, alg)._verifier(alg))
        _remember(cache, header_seg, entry)
        return entry


def _remember(cache: dict[bytes, tuple[dict[str, Any], Verify]], header_seg: bytes,
              entry: tuple[dict[str, Any], Verify]) -> None:
    if len(cache) >= _HEADER_CACHE_SIZE:
        cache.clear()
    cache[header_seg] = entry


def signature_verifier(
    keys: Key | KeySet | KeySource, *, algorithms: Iterable[str], typ: str | None = None,
    max_token_size: int = MAX_TOKEN_SIZE,
) -> SignatureVerifier:
    """The signature verifier for fixed keys, or for a :class:`KeySource` whose keys may change."""
    if not isinstance(keys, Key | KeySet) and isinstance(keys, KeySource):
        import inspect  # only here: importing it costs `import jwtkit` more than the whole JWS layer

        if inspect.iscoroutinefunction(keys.keyset):
            raise TypeError(f"{type(keys).__name__} is asynchronous: verify with jwtkit.AsyncVerifier")
        return SourcedSignatureVerifier(keys, algorithms=algorithms, typ=typ, max_token_size=max_token_size)
    return SignatureVerifier(keys, algorithms=algorithms, typ=typ, max_token_size=max_token_size)


def build_header(key: Key, headers: Mapping[str, Any] | None, typ: str | None) -> tuple[str, bytes]:
    """The ``alg`` and the encoded header segment for signing with ``key``."""
    alg = key.signing_algorithm
    if headers is None and key.is_private:
        return alg, key._signer(alg).header_segment(typ)
    return alg, encode_header(alg, key.kid, headers, typ)


def sign(payload: bytes, key: Key, *, headers: Mapping[str, Any] | None = None) -> str:
    """A compact JWS of ``payload`` signed with ``key``; the header holds ``alg`` and ``kid``.

    Raises:
        ValueError: the key is public, has no algorithm, or ``headers`` conflict with it.
    """
    if not isinstance(payload, bytes | bytearray):
        raise TypeError("payload must be bytes")
    alg, header_seg = build_header(key, headers, None)
    signing_input = header_seg + b"." + b64url_encode(bytes(payload))
    return (signing_input + b"." + b64url_encode(key._signer(alg).sign(signing_input))).decode("ascii")


def verify(
    token: str | bytes, key_or_keyset: Key | KeySet, *, algorithms: Iterable[str]
) -> tuple[dict[str, Any], bytes]:
    """Verify a compact JWS; return its header and decoded payload bytes.

    Raises:
        JWTError: a subclass naming what is wrong, for any input.
    """
    header, payload_seg = SignatureVerifier(key_or_keyset, algorithms=algorithms).verify(token)
    return dict(header), decode_segment(payload_seg, "payload")


def raw_signature(signing_input: bytes, key: Key, alg: str | None = None) -> bytes:
    """The JWS signature bytes of ``signing_input`` (ECDSA as R || S): for test vectors."""
    return key._signer(alg or key.signing_algorithm).sign(signing_input)
