"""JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) import and export, and the RFC 7638 thumbprint.

:meth:`Key.from_jwk <jwtkit.core.keys.Key.from_jwk>` and :meth:`Key.to_jwk
<jwtkit.core.keys.Key.to_jwk>` are the public API; they delegate here. This module works on
key material (``cryptography`` objects and secrets), not on :class:`Key`, so the key imports
it and not the other way round.

A JWK is untrusted input (it may come from a remote JWKS), so every member is checked and
every failure is an :class:`~jwtkit.errors.InvalidKeyError`: wrong types, non-canonical
base64url, coordinates of the wrong length, points off the curve, private parts that do not
match the public ones, keys marked for encryption.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import (
    rsa_crt_dmp1,
    rsa_crt_dmq1,
    rsa_crt_iqmp,
    rsa_recover_prime_factors,
)

from jwtkit.errors import InvalidKeyError

from .algorithms import ALGORITHMS, EC_COORDINATE_SIZE, EC_CURVES
from .b64 import Base64Error, b64url_decode, b64url_encode, b64url_uint
from .codec import parse_json
from .material import PrivateKey, PublicKey, check_rsa_modulus
from .sniff import looks_like_key_material

#: What a JWK holds, in the order ``Key._make`` takes it: kty, crv, private, public, alg, kid.
KeyMaterial: TypeAlias = tuple[str, str | None, PrivateKey | bytes | None, PublicKey | bytes, str | None, str | None]

_OKP_SIZES = {"Ed25519": 32, "Ed448": 57}
_RSA_PRIVATE = ("p", "q", "dp", "dq", "qi")
MAX_JWK_TEXT = 64 * 1024
_MAX_RECOVERY_BITS = 4096
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}


def load_json_document(text: Mapping[str, Any] | str | bytes, what: str) -> Mapping[str, Any]:
    """A JWK or JWKS given as a mapping or JSON text, as a mapping."""
    if isinstance(text, Mapping):
        return text
    if not isinstance(text, str | bytes | bytearray):
        raise TypeError(f"a {what} must be a dict or JSON text, not {type(text).__name__}")
    if len(text) > MAX_JWK_TEXT:
        raise InvalidKeyError(f"the {what} is larger than {MAX_JWK_TEXT} bytes")
    try:
        doc = parse_json(text if isinstance(text, str) else bytes(text).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise InvalidKeyError(f"the {what} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidKeyError(f"the {what} must be a JSON object")
    return doc


def parse_jwk(source: Mapping[str, Any] | str | bytes, *, alg: str | None = None) -> KeyMaterial:
    """The checked material of a JWK, with the ``alg`` it is bound to (its own, else ``alg``)."""
    jwk = load_json_document(source, "JWK")
    kty = jwk.get("kty")
    _check_usage(jwk)
    jwk_alg = jwk.get("alg")
    if jwk_alg is not None:
        if not isinstance(jwk_alg, str):
            raise InvalidKeyError("JWK 'alg' must be a string", claim="alg")
        if jwk_alg not in ALGORITHMS:
            raise InvalidKeyError(f"JWK 'alg' {jwk_alg!r} is not a JWS signature algorithm", claim="alg")
        if alg is not None and alg != jwk_alg:
            raise InvalidKeyError(f"the JWK is bound to {jwk_alg}, not {alg}", claim="alg")
    if alg is not None and alg not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {alg!r}")
    bound = jwk_alg if jwk_alg is not None else alg
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidKeyError("JWK 'kid' must be a string", claim="kid")
    if kty == "oct":
        return _oct(jwk, bound, kid)
    if kty == "RSA":
        return _rsa(jwk, bound, kid)
    if kty == "EC":
        return _ec(jwk, bound, kid)
    if kty == "OKP":
        return _okp(jwk, bound, kid)
    raise InvalidKeyError(f"unsupported JWK key type {kty!r} (expected oct, RSA, EC or OKP)", claim="kty")


def _check_usage(jwk: Mapping[str, Any]) -> None:
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise InvalidKeyError(f"the JWK is for use {use!r}, not signatures ('sig')", claim="use")
    ops = jwk.get("key_ops")
    if ops is not None:
        if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
            raise InvalidKeyError("JWK 'key_ops' must be a list of strings", claim="key_ops")
        if len(set(ops)) != len(ops):
            raise InvalidKeyError("JWK 'key_ops' repeats an operation", claim="key_ops")
        if not {"sign", "verify"} & set(ops):
            raise InvalidKeyError(f"the JWK's key_ops {ops} allow neither sign nor verify", claim="key_ops")


def _oct(jwk: Mapping[str, Any], alg: str | None, kid: str | None) -> KeyMaterial:
    secret = b64_member(jwk, "k")
    if looks_like_key_material(secret):
        raise InvalidKeyError("the oct JWK's secret is asymmetric key material, not a random secret")
    return ("oct", None, secret, secret, alg, kid)


def b64_member(jwk: Mapping[str, Any], name: str, size: int | None = None) -> bytes:
    """A base64url JWK member, decoded strictly; ``size`` demands an exact length."""
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKeyError(f"JWK member {name!r} must be a base64url string", claim=name)
    try:
        raw = b64url_decode(value.encode("ascii"))
    except (Base64Error, UnicodeEncodeError, ValueError) as exc:
        raise InvalidKeyError(f"JWK member {name!r} is not canonical base64url", claim=name) from exc
    if size is not None and len(raw) != size:
        raise InvalidKeyError(f"JWK member {name!r} must be {size} bytes, found {len(raw)}", claim=name)
    return raw


def _uint(jwk: Mapping[str, Any], name: str) -> int:
    raw = b64_member(jwk, name)
    if not raw:
        raise InvalidKeyError(f"JWK member {name!r} is empty", claim=name)
    return int.from_bytes(raw, "big")


def _rsa(jwk: Mapping[str, Any], alg: str | None, kid: str | None) -> KeyMaterial:
    if "oth" in jwk:
        raise InvalidKeyError("multi-prime RSA keys ('oth') are not supported", claim="oth")
    n, e = _uint(jwk, "n"), _uint(jwk, "e")
    check_rsa_modulus(n)
    if e < 3 or e % 2 == 0:
        raise InvalidKeyError("RSA public exponent must be odd and at least 3", claim="e")
    public_numbers = rsa.RSAPublicNumbers(e, n)
    try:
        if "d" not in jwk:
            if any(name in jwk for name in _RSA_PRIVATE):
                raise InvalidKeyError("RSA JWK has CRT members but no 'd'", claim="d")
            return ("RSA", None, None, public_numbers.public_key(), alg, kid)
        d = _uint(jwk, "d")
        if all(name in jwk for name in _RSA_PRIVATE):
            p, q = _uint(jwk, "p"), _uint(jwk, "q")
            dp, dq, qi = _uint(jwk, "dp"), _uint(jwk, "dq"), _uint(jwk, "qi")
        elif any(name in jwk for name in _RSA_PRIVATE):
            raise InvalidKeyError("RSA JWK has some but not all of p, q, dp, dq, qi", claim="p")
        else:
            # Recovering p and q from d costs seconds for a hostile large modulus: bound it.
            if n.bit_length() > _MAX_RECOVERY_BITS:
                raise InvalidKeyError(
                    f"RSA private JWKs over {_MAX_RECOVERY_BITS} bits must include p, q, dp, dq and qi", claim="p"
                )
            p, q = rsa_recover_prime_factors(n, e, d)
            dp, dq, qi = rsa_crt_dmp1(d, p), rsa_crt_dmq1(d, q), rsa_crt_iqmp(p, q)
        private = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, public_numbers).private_key()
    except InvalidKeyError:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError(f"inconsistent RSA JWK: {exc}") from exc
    return ("RSA", None, private, private.public_key(), alg, kid)


def _ec(jwk: Mapping[str, Any], alg: str | None, kid: str | None) -> KeyMaterial:
    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in EC_CURVES:
        raise InvalidKeyError(f"unsupported EC curve {crv!r} (expected {', '.join(EC_CURVES)})", claim="crv")
    size = EC_COORDINATE_SIZE[crv]
    x = int.from_bytes(b64_member(jwk, "x", size), "big")
    y = int.from_bytes(b64_member(jwk, "y", size), "big")
    curve = EC_CURVES[crv]()
    try:
        public = ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    except ValueError as exc:
        raise InvalidKeyError(f"the EC point is not on {crv}") from exc
    if "d" not in jwk:
        return ("EC", crv, None, public, alg, kid)
    d = int.from_bytes(b64_member(jwk, "d", size), "big")
    try:
        private = ec.derive_private_key(d, curve)
    except ValueError as exc:
        raise InvalidKeyError(f"the EC private value is out of range for {crv}", claim="d") from exc
    if private.public_key().public_numbers() != public.public_numbers():
        raise InvalidKeyError("the EC private key 'd' does not match 'x' and 'y'", claim="d")
    return ("EC", crv, private, public, alg, kid)


def _okp(jwk: Mapping[str, Any], alg: str | None, kid: str | None) -> KeyMaterial:
    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in _OKP_SIZES:
        raise InvalidKeyError(f"unsupported OKP curve {crv!r} for signatures (expected Ed25519 or Ed448)", claim="crv")
    size = _OKP_SIZES[crv]
    x = b64_member(jwk, "x", size)
    public: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
    private: ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | None = None
    try:
        if crv == "Ed25519":
            public = ed25519.Ed25519PublicKey.from_public_bytes(x)
            if "d" in jwk:
                private = ed25519.Ed25519PrivateKey.from_private_bytes(b64_member(jwk, "d", size))
        else:
            public = ed448.Ed448PublicKey.from_public_bytes(x)
            if "d" in jwk:
                private = ed448.Ed448PrivateKey.from_private_bytes(b64_member(jwk, "d", size))
    except ValueError as exc:
        raise InvalidKeyError(f"invalid {crv} key: {exc}") from exc
    if private is not None and private.public_key() != public:
        raise InvalidKeyError(f"the {crv} private key 'd' does not match 'x'", claim="d")
    return ("OKP", crv, private, public, alg, kid)


# ---------------------------------------------------------------------- export
def public_members(kty: str, crv: str | None, public: PublicKey | bytes) -> dict[str, Any]:
    """The public JWK members of a key (for ``oct``, its secret ``k``)."""
    if kty == "oct":
        return {"kty": "oct", "k": b64url_encode(public).decode("ascii")}  # type: ignore[arg-type]
    if isinstance(public, rsa.RSAPublicKey):
        n = public.public_numbers()
        return {"kty": "RSA", "n": b64url_uint(n.n), "e": b64url_uint(n.e)}
    if isinstance(public, ec.EllipticCurvePublicKey):
        assert crv is not None
        size = EC_COORDINATE_SIZE[crv]
        pn = public.public_numbers()
        return {"kty": "EC", "crv": crv, "x": b64url_uint(pn.x, size), "y": b64url_uint(pn.y, size)}
    assert isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": crv, "x": b64url_encode(raw).decode("ascii")}


def private_members(crv: str | None, private: PrivateKey | bytes) -> dict[str, Any]:
    """The private JWK members of a key (none for ``oct``: its secret is already ``k``)."""
    if isinstance(private, bytes):
        return {}
    if isinstance(private, rsa.RSAPrivateKey):
        n = private.private_numbers()
        return {
            "d": b64url_uint(n.d),
            "p": b64url_uint(n.p),
            "q": b64url_uint(n.q),
            "dp": b64url_uint(n.dmp1),
            "dq": b64url_uint(n.dmq1),
            "qi": b64url_uint(n.iqmp),
        }
    if isinstance(private, ec.EllipticCurvePrivateKey):
        assert crv is not None
        return {"d": b64url_uint(private.private_numbers().private_value, EC_COORDINATE_SIZE[crv])}
    assert isinstance(private, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return {"d": b64url_encode(raw).decode("ascii")}


def thumbprint(kty: str, crv: str | None, public: PublicKey | bytes) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of a key's public members."""
    members = public_members(kty, crv, public)
    required = {name: members[name] for name in _THUMBPRINT_MEMBERS[kty]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest()).decode("ascii")
