"""One frozen descriptor per JWS algorithm (RFC 7518 §3, RFC 8037, RFC 8812, RFC 9864).

A descriptor knows the key type and curve it needs, its hash, its signature size and
minimum key size, and builds the sign/verify closures for a prepared ``cryptography`` key.
The closures are made once per key, so the per-token path is one call.

``none`` is deliberately absent: there is no descriptor, so it can never be selected.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

Signer = Callable[[bytes], bytes]
Verify = Callable[[bytes, bytes], bool]
Family = Literal["hmac", "rsa-pkcs1", "rsa-pss", "ecdsa", "eddsa"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}

# Curve orders, for the ECDSA range check r, s in [1, n-1] (CVE-2022-21449).
CURVE_ORDERS: dict[str, int] = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "P-521": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
    "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}

EC_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "secp256k1": ec.SECP256K1,
}
EC_COORDINATE_SIZE = {"P-256": 32, "P-384": 48, "P-521": 66, "secp256k1": 32}
OKP_CURVES = ("Ed25519", "Ed448")


@dataclass(frozen=True, slots=True)
class Algorithm:
    """What one ``alg`` value needs and does.

    ``curves`` lists the JWK ``crv`` values the algorithm accepts (empty for HMAC and RSA).
    ``min_key_size`` is in bytes for HMAC secrets and in bits for RSA moduli.
    """

    name: str
    family: Family
    kty: str
    hash_name: str | None
    curves: tuple[str, ...] = ()
    min_key_size: int = 0

    def new_hash(self) -> hashes.HashAlgorithm:
        assert self.hash_name is not None
        return _HASHES[self.hash_name]()

    @property
    def hash_size(self) -> int:
        return self.new_hash().digest_size

    def signer(self, key: Any) -> Signer:
        """A closure signing bytes with ``key`` (secret bytes or a pyca private key)."""
        return _SIGNERS[self.family](self, key)

    def verifier(self, key: Any) -> Verify:
        """A closure returning whether a signature verifies (secret bytes or a pyca public key)."""
        return _VERIFIERS[self.family](self, key)


def _hmac_signer(alg: Algorithm, secret: bytes) -> Signer:
    prepared = crypto_hmac.HMAC(secret, alg.new_hash())

    def sign(data: bytes) -> bytes:
        ctx = prepared.copy()
        ctx.update(data)
        return ctx.finalize()

    return sign


def _hmac_verifier(alg: Algorithm, secret: bytes) -> Verify:
    sign = _hmac_signer(alg, secret)
    compare = hmac.compare_digest

    def verify(data: bytes, signature: bytes) -> bool:
        return compare(sign(data), signature)

    return verify


def _rsa_padding(alg: Algorithm) -> padding.AsymmetricPadding:
    if alg.family == "rsa-pss":
        # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
        return padding.PSS(mgf=padding.MGF1(alg.new_hash()), salt_length=alg.hash_size)
    return padding.PKCS1v15()


def _rsa_signer(alg: Algorithm, key: rsa.RSAPrivateKey) -> Signer:
    pad, digest = _rsa_padding(alg), alg.new_hash()

    def sign(data: bytes) -> bytes:
        return key.sign(data, pad, digest)

    return sign


def _rsa_verifier(alg: Algorithm, key: rsa.RSAPublicKey) -> Verify:
    pad, digest = _rsa_padding(alg), alg.new_hash()
    size = (key.key_size + 7) // 8

    def verify(data: bytes, signature: bytes) -> bool:
        if len(signature) != size:
            return False
        try:
            key.verify(signature, data, pad, digest)
        except InvalidSignature:
            return False
        return True

    return verify


def _ecdsa_signer(alg: Algorithm, key: ec.EllipticCurvePrivateKey) -> Signer:
    scheme = ec.ECDSA(alg.new_hash())
    size = EC_COORDINATE_SIZE[alg.curves[0]]

    def sign(data: bytes) -> bytes:
        # RFC 7518 §3.4: the JWS signature is R || S, each left-padded to the curve size.
        r, s = decode_dss_signature(key.sign(data, scheme))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    return sign


def _ecdsa_verifier(alg: Algorithm, key: ec.EllipticCurvePublicKey) -> Verify:
    scheme = ec.ECDSA(alg.new_hash())
    size = EC_COORDINATE_SIZE[alg.curves[0]]
    order = CURVE_ORDERS[alg.curves[0]]
    from_bytes = int.from_bytes

    def verify(data: bytes, signature: bytes) -> bool:
        if len(signature) != 2 * size:
            return False
        r = from_bytes(signature[:size], "big")
        s = from_bytes(signature[size:], "big")
        # Psychic signatures (CVE-2022-21449): r and s must lie in [1, n-1].
        if not (0 < r < order and 0 < s < order):
            return False
        try:
            key.verify(encode_dss_signature(r, s), data, scheme)
        except InvalidSignature:
            return False
        return True

    return verify


def _eddsa_signer(alg: Algorithm, key: ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) -> Signer:
    return key.sign


def _eddsa_verifier(alg: Algorithm, key: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey) -> Verify:
    size = 64 if isinstance(key, ed25519.Ed25519PublicKey) else 114
    raw_verify = key.verify

    def verify(data: bytes, signature: bytes) -> bool:
        if len(signature) != size:
            return False
        try:
            raw_verify(signature, data)
        except InvalidSignature:
            return False
        return True

    return verify


_SIGNERS: dict[str, Callable[[Algorithm, Any], Signer]] = {
    "hmac": _hmac_signer,
    "rsa-pkcs1": _rsa_signer,
    "rsa-pss": _rsa_signer,
    "ecdsa": _ecdsa_signer,
    "eddsa": _eddsa_signer,
}
_VERIFIERS: dict[str, Callable[[Algorithm, Any], Verify]] = {
    "hmac": _hmac_verifier,
    "rsa-pkcs1": _rsa_verifier,
    "rsa-pss": _rsa_verifier,
    "ecdsa": _ecdsa_verifier,
    "eddsa": _eddsa_verifier,
}


def _table(*algs: Algorithm) -> dict[str, Algorithm]:
    return {alg.name: alg for alg in algs}


ALGORITHMS: dict[str, Algorithm] = _table(
    # RFC 7518 §3.2: an HMAC key as long as the hash output, at least.
    Algorithm("HS256", "hmac", "oct", "SHA256", min_key_size=32),
    Algorithm("HS384", "hmac", "oct", "SHA384", min_key_size=48),
    Algorithm("HS512", "hmac", "oct", "SHA512", min_key_size=64),
    # RFC 7518 §3.3, §3.5: RSA keys of 2048 bits or more.
    Algorithm("RS256", "rsa-pkcs1", "RSA", "SHA256", min_key_size=2048),
    Algorithm("RS384", "rsa-pkcs1", "RSA", "SHA384", min_key_size=2048),
    Algorithm("RS512", "rsa-pkcs1", "RSA", "SHA512", min_key_size=2048),
    Algorithm("PS256", "rsa-pss", "RSA", "SHA256", min_key_size=2048),
    Algorithm("PS384", "rsa-pss", "RSA", "SHA384", min_key_size=2048),
    Algorithm("PS512", "rsa-pss", "RSA", "SHA512", min_key_size=2048),
    # RFC 7518 §3.4, RFC 8812 §3.2.
    Algorithm("ES256", "ecdsa", "EC", "SHA256", ("P-256",)),
    Algorithm("ES384", "ecdsa", "EC", "SHA384", ("P-384",)),
    Algorithm("ES512", "ecdsa", "EC", "SHA512", ("P-521",)),
    Algorithm("ES256K", "ecdsa", "EC", "SHA256", ("secp256k1",)),
    # RFC 8037 §3.1 (EdDSA, curve from the key) and RFC 9864 (fully specified names).
    Algorithm("EdDSA", "eddsa", "OKP", None, OKP_CURVES),
    Algorithm("Ed25519", "eddsa", "OKP", None, ("Ed25519",)),
    Algorithm("Ed448", "eddsa", "OKP", None, ("Ed448",)),
)

#: Every algorithm name jwtkit can sign and verify with, in a stable order.
SUPPORTED_ALGORITHMS: tuple[str, ...] = tuple(ALGORITHMS)


def get_algorithm(name: str) -> Algorithm:
    """The descriptor for ``name``; ``ValueError`` for an unknown name (API misuse)."""
    try:
        return ALGORITHMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown algorithm {name!r}; supported: {', '.join(SUPPORTED_ALGORITHMS)}") from None


def default_algorithm(kty: str, crv: str | None) -> str | None:
    """The one algorithm a key type and curve imply, or None where several fit (RSA, oct)."""
    if kty == "EC" and crv is not None:
        return next(a.name for a in ALGORITHMS.values() if a.family == "ecdsa" and a.curves == (crv,))
    if kty == "OKP":
        return "EdDSA"
    return None
