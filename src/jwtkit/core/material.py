"""Key material: the ``cryptography`` key types a :class:`~jwtkit.core.keys.Key` wraps, PEM
loading, and the checks RSA material must pass however it arrives (PEM, JWK, a ``cryptography`` object)."""

from __future__ import annotations

from typing import Any, TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from jwtkit.errors import InvalidKeyError, WeakKeyError

from .roca import has_roca_fingerprint

PrivateKey: TypeAlias = (
    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
)
PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey

#: OpenSSL's own ceiling; larger moduli only serve to make verification slow.
MAX_RSA_BITS = 16384


def check_rsa_modulus(n: int) -> None:
    """Refuse RSA moduli that are too small (RFC 7518 §3.3) or factorable by ROCA (CVE-2017-15361)."""
    if n.bit_length() < 2048:
        raise WeakKeyError(f"RSA keys must be at least 2048 bits, this one has {n.bit_length()}")
    if n.bit_length() > MAX_RSA_BITS:
        raise InvalidKeyError(f"RSA keys over {MAX_RSA_BITS} bits are refused, this one has {n.bit_length()}")
    if has_roca_fingerprint(n):
        raise WeakKeyError("this RSA key has the ROCA fingerprint (CVE-2017-15361): it can be factored")


def load_pem(data: bytes, password: bytes | None) -> Any:
    """The ``cryptography`` key in PEM text: a private key, a public key, or a certificate's public key.

    Raises:
        InvalidKeyError: not a PEM key of a supported type (or a wrong ``password``).
    """
    try:
        if b"PRIVATE KEY-----" in data:
            return serialization.load_pem_private_key(data, password=password)
        if b"CERTIFICATE-----" in data:
            return _certificate_public_key(data)
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InvalidKeyError(f"not a usable PEM key: {exc}") from exc
    except Exception as exc:  # cryptography's UnsupportedAlgorithm and friends
        raise InvalidKeyError(f"not a usable PEM key: {exc}") from exc


def _certificate_public_key(data: bytes) -> Any:
    """The public key of a PEM certificate. ``cryptography.x509`` is imported here, not at the
    top: it is a third of ``import jwtkit``'s cost and only certificates need it."""
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(data).public_key()
    except x509.InvalidVersion as exc:
        raise ValueError(str(exc)) from exc
