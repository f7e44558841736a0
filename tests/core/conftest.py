"""Set-up shared by the token-core tests."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from jwtkit import Key

CertificateFactory = Callable[[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey], x509.Certificate]


@pytest.fixture(scope="session")
def self_signed_certificate() -> CertificateFactory:
    """Makes a self-signed X.509 certificate for a ``cryptography`` private key."""

    def make(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example")])
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(private.public_key())
            .serial_number(7)
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=30))
            .sign(private, hashes.SHA256())
        )

    return make


@pytest.fixture(scope="session")
def verifying_key() -> Callable[[Key], Key]:
    """The key that verifies what ``key`` signs: its public half, or the shared secret itself."""

    def public_half(key: Key) -> Key:
        return key if key.kty == "oct" else key.public_key()

    return public_half
