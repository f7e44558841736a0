"""Fuzz targets shared by the atheris harness (``fuzz_decode.py``) and the corpus replay test.

Each target takes arbitrary bytes and feeds them to one untrusted-input entry point of
jwtkit. The contract under test (issue 2): for ANY input, only :class:`jwtkit.JWTError`
subclasses come out. A target swallows ``JWTError`` and lets everything else escape, so
the fuzzer reports it as a crash and the replay test fails on it.

Keys are fixed (derived from constants), so a corpus file means the same thing on every
run: a token signed with them verifies, and the ``signed`` target re-signs fuzzed header
and payload JSON so the claim checks behind the signature are reached too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

import jwtkit
from jwtkit import JWTError, Key, KeySet, Verifier

NOW = 1_800_000_000
HS_SECRET = bytes(range(32))
HS_KEY = Key.from_secret(HS_SECRET, alg="HS256", kid="hs")
ES_KEY = Key.from_cryptography(ec.derive_private_key(0xC0FFEE, ec.SECP256R1()), alg="ES256", kid="es")
ED_KEY = Key.from_cryptography(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)), alg="EdDSA", kid="ed")
KEYSET = KeySet([HS_KEY, ES_KEY.public_key(), ED_KEY.public_key()])
ALGORITHMS = ["HS256", "ES256", "EdDSA", "RS256", "PS256", "ES384"]

_PLAIN = Verifier(KEYSET, algorithms=ALGORITHMS)
_SINGLE = Verifier(HS_KEY, algorithms=["HS256"])
_STRICT = Verifier(
    KEYSET,
    algorithms=ALGORITHMS,
    audience=["api", "other"],
    issuer="https://issuer.example",
    leeway=30,
    required=("exp", "sub", "jti"),
    typ="JWT",
)
_VERIFIERS = (_PLAIN, _SINGLE, _STRICT)
_DEFAULT_HEADER = b'{"alg":"HS256","typ":"JWT"}'


def _texts(data: bytes) -> tuple[str | bytes, ...]:
    """The input as bytes and as text (lone surrogates keep every byte string representable)."""
    return data, data.decode("utf-8", "surrogateescape")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def resign(data: bytes) -> bytes:
    """A token whose header and payload are the fuzzed bytes, HS256-signed with ``HS_SECRET``.

    ``header JSON`` + newline + ``payload JSON``; without a newline the whole input is the
    payload under a plain HS256 header.
    """
    header, sep, payload = data.partition(b"\n")
    if not sep:
        header, payload = _DEFAULT_HEADER, data
    signing_input = _b64(header) + b"." + _b64(payload)
    return signing_input + b"." + _b64(hmac.digest(HS_SECRET, signing_input, hashlib.sha256))


def _verify_all(token: str | bytes) -> None:
    for verifier in _VERIFIERS:
        try:
            claims = verifier.verify(token, now=NOW)
        except JWTError:
            continue
        assert type(claims) is dict


def target_verify(data: bytes) -> None:
    """``Verifier.verify`` on the input as a token (bytes and text)."""
    for token in _texts(data):
        _verify_all(token)


def target_signed(data: bytes) -> None:
    """``Verifier.verify`` on a validly signed token around fuzzed header and payload JSON."""
    token = resign(data)
    _verify_all(token)
    _verify_all(token.decode("ascii"))


def target_jws(data: bytes) -> None:
    """``jwtkit.jws.verify`` on the input as a token."""
    for token in _texts(data):
        with contextlib.suppress(JWTError):
            jwtkit.jws.verify(token, KEYSET, algorithms=ALGORITHMS)


def target_unverified(data: bytes) -> None:
    """``decode_unverified`` on the input as a token."""
    for token in _texts(data):
        try:
            header, claims = jwtkit.decode_unverified(token)
        except JWTError:
            continue
        assert type(header) is dict
        assert type(claims) is dict


def _exercise(key: Key) -> None:
    """A key that parsed must export, re-import to the same key, and thumbprint."""
    exported = key.to_jwk(private=key.is_private)
    again = Key.from_jwk(exported)
    assert again.thumbprint() == key.thumbprint()
    assert again.alg == key.alg
    assert again.kid == key.kid
    if key.kty != "oct":
        key.public_key().to_jwk()


def target_jwk(data: bytes) -> None:
    """``Key.from_jwk`` on the input as JSON text (bytes and str) and as a parsed dict."""
    sources: list[object] = list(_texts(data))
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict):
        sources.append(doc)
    for source in sources:
        try:
            key = Key.from_jwk(source)  # type: ignore[arg-type]
        except JWTError:
            continue
        _exercise(key)


def target_jwks(data: bytes) -> None:
    """``KeySet.from_jwks`` on the input as JSON text (bytes and str)."""
    for source in _texts(data):
        try:
            keys = KeySet.from_jwks(source)
        except JWTError:
            continue
        for key in keys:
            _exercise(key)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "verify": target_verify,
    "signed": target_signed,
    "jws": target_jws,
    "unverified": target_unverified,
    "jwk": target_jwk,
    "jwks": target_jwks,
}
