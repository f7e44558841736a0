"""RSA moduli with the ROCA fingerprint (CVE-2017-15361) are refused at import."""

import math
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtkit import Key, WeakKeyError
from jwtkit.core.roca import _PRIMES, has_roca_fingerprint

PRIMORIAL = math.prod(_PRIMES)


def infineon_style_factor() -> int:
    """A number of the shape RSALib used for its primes: k * M + (65537**a mod M)."""
    return secrets.randbits(1024) * PRIMORIAL + pow(65537, secrets.randbelow(10**6), PRIMORIAL)


def test_a_product_of_infineon_style_factors_has_the_fingerprint():
    assert has_roca_fingerprint(infineon_style_factor() * infineon_style_factor())


def test_a_freshly_generated_rsa_modulus_has_no_fingerprint():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert not has_roca_fingerprint(key.public_key().public_numbers().n)


def test_a_random_odd_number_has_no_fingerprint():
    assert not has_roca_fingerprint(secrets.randbits(2048) | 1)


def test_a_jwk_with_a_roca_modulus_is_refused_as_weak():
    n = infineon_style_factor() * infineon_style_factor()
    jwk = {"kty": "RSA", "n": _b64(n), "e": "AQAB"}
    with pytest.raises(WeakKeyError, match="ROCA"):
        Key.from_jwk(jwk)


def _b64(value: int) -> str:
    import base64

    return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
