"""Known attacks on JWT libraries, one test per advisory or attack (RFC 8725; LESSONS.md).

Each hostile token is built by hand with :mod:`forge`. Where a refusal could come from a
broken signature instead of the rule under test, the token carries a *valid* signature by
the verifying key, so the test fails if the rule is missing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from typing import Any

import forge
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

import jwtkit
from jwtkit import (
    AlgorithmNotAllowedError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    Key,
    KeyNotFoundError,
    KeySet,
    MalformedTokenError,
    UnsupportedHeaderError,
    WeakKeyError,
)
from jwtkit.core.algorithms import CURVE_ORDERS, EC_COORDINATE_SIZE
from support.constants import NOW

CLAIMS = {"sub": "alice", "role": "user", "exp": NOW + 300}
ADMIN = {"sub": "alice", "role": "admin", "exp": NOW + 300}
HS_HEADER = {"alg": "HS256", "typ": "JWT"}


@pytest.fixture(scope="module")
def hs_key() -> Key:
    return Key.from_secret(b"k" * 16 + bytes(range(16)), alg="HS256")


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    return Key.generate("RS256", kid="rsa-1")


@pytest.fixture(scope="module")
def ec_key() -> Key:
    """A fixed P-256 key (the private scalar is a constant), so the encodings below are stable."""
    return Key.from_cryptography(ec.derive_private_key(0xC0FFEE << 200, ec.SECP256R1()), alg="ES256", kid="ec-1")


@pytest.fixture(scope="module")
def attacker_key() -> Key:
    return Key.generate("RS256", kid="attacker")


@pytest.fixture
def no_network(monkeypatch):
    """Record (and refuse) every outgoing connection: verification must never fetch a URL."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during token verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


# ---------------------------------------------------------------------------------------------
# alg: none (CVE-2015-9235 and the 2015 "critical vulnerabilities in JSON Web Token libraries")
# ---------------------------------------------------------------------------------------------
NONE_CASINGS = ["none", "None", "NONE", "nOnE"]


@pytest.mark.parametrize("alg", NONE_CASINGS)
def test_alg_none_without_a_signature_is_refused(alg, hs_key):
    """CVE-2015-9235 (node-jsonwebtoken) and RFC 8725 §3.1: an unsigned token is never valid."""
    tok = forge.token({"alg": alg, "typ": "JWT"}, ADMIN)
    assert tok.endswith(".")
    with pytest.raises(AlgorithmNotAllowedError) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)
    assert info.value.claim == "alg"


@pytest.mark.parametrize("alg", NONE_CASINGS)
def test_alg_none_with_a_signature_is_refused(alg, hs_key):
    """CVE-2015-9235: ``none`` with a signature attached (a MAC by the real key) is still refused."""
    tok = forge.hmac_token({"alg": alg}, ADMIN, secret=b"k" * 16 + bytes(range(16)))
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize("alg", NONE_CASINGS)
def test_alg_none_is_refused_by_a_key_set_and_by_the_jws_layer(alg, hs_key):
    """CVE-2015-9235: the refusal does not depend on which entry point verifies."""
    tok = forge.token({"alg": alg}, ADMIN)
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.decode(tok, KeySet([hs_key]), algorithms=["HS256"], now=NOW)
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.jws.verify(tok, hs_key, algorithms=["HS256"])


def test_a_header_alg_outside_algorithms_is_refused_even_when_the_key_fits_it(rsa_key):
    """RFC 8725 §3.1: the caller's ``algorithms`` bound what is accepted; a PS256 token is refused
    by a verifier allowing only RS256, although the (alg-less) RSA key could verify it."""
    family_key = Key.from_pem(rsa_key.to_pem(private=True))
    assert family_key.fits("PS256")
    tok = forge.signed({"alg": "PS256"}, CLAIMS, family_key)
    assert jwtkit.decode(tok, family_key.public_key(), algorithms=["PS256"], now=NOW) == CLAIMS
    with pytest.raises(AlgorithmNotAllowedError) as info:
        jwtkit.decode(tok, family_key.public_key(), algorithms=["RS256"], now=NOW)
    assert "PS256" in str(info.value)
    assert "RS256" in str(info.value)


def test_a_header_alg_outside_algorithms_is_refused_for_hmac():
    """RFC 8725 §3.1: an HS512 token is refused by a verifier allowing only HS256."""
    family_key = Key.from_jwk({"kty": "oct", "k": forge.b64url(bytes(range(64)))})
    tok = forge.signed({"alg": "HS512"}, CLAIMS, family_key)
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.decode(tok, family_key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize("alg", [["HS256"], None, 256, "", "hs256"])
def test_a_header_alg_that_is_not_an_exact_algorithm_name_is_refused(alg, hs_key):
    """RFC 7515 §4.1.1: ``alg`` is a case-sensitive string; no lists, numbers or case folding."""
    tok = forge.signed({"alg": alg}, CLAIMS, hs_key, alg="HS256")
    with pytest.raises((MalformedTokenError, AlgorithmNotAllowedError)):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


# ---------------------------------------------------------------------------------------------
# Algorithm confusion: HS256 MACed with the public key (CVE-2016-10555, CVE-2017-11424,
# CVE-2022-29217, CVE-2024-33663, CVE-2026-48526)
# ---------------------------------------------------------------------------------------------
def _public_key_encodings(key: Key, certificate: x509.Certificate) -> dict[str, bytes]:
    """The public key of ``key`` in every form the peers let through as an HMAC secret."""
    pub = key.public_key()
    crypto_pub = serialization.load_pem_public_key(pub.to_pem())
    pem = pub.to_pem()
    der = crypto_pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    forms = {
        "pem": pem,
        "pem-crlf": pem.replace(b"\n", b"\r\n"),
        "pem-no-trailing-newline": pem.rstrip(b"\n"),
        "pem-leading-and-trailing-space": b"  \n" + pem + b"\n\n  ",
        "pem-extra-blank-lines": pem.replace(b"-----\n", b"-----\n\n", 1),
        "pem-lowercase-armour": pem.replace(b"PUBLIC KEY", b"public key"),
        "pem-body-only": b"".join(line for line in pem.splitlines(keepends=True) if not line.startswith(b"-----")),
        "der": der,
        "der-base64": base64.b64encode(der),
        "jwk-json": json.dumps(pub.to_jwk()).encode(),
        "jwk-json-pretty": json.dumps(pub.to_jwk(), indent=2).encode(),
        "openssh": crypto_pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        "openssh-with-comment": crypto_pub.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        + b" victim@example\n",
        "certificate-pem": certificate.public_bytes(serialization.Encoding.PEM),
        "certificate-der": certificate.public_bytes(serialization.Encoding.DER),
    }
    if key.kty == "RSA":
        forms["pkcs1-pem"] = crypto_pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        forms["pkcs1-der"] = crypto_pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return forms


@pytest.fixture(scope="module")
def rsa_forms(rsa_key, self_signed_certificate) -> dict[str, bytes]:
    return _public_key_encodings(rsa_key, self_signed_certificate(_private_of(rsa_key)))


@pytest.fixture(scope="module")
def ec_forms(ec_key, self_signed_certificate) -> dict[str, bytes]:
    return _public_key_encodings(ec_key, self_signed_certificate(_private_of(ec_key)))


RSA_FORMS = [
    "pem",
    "pem-crlf",
    "pem-no-trailing-newline",
    "pem-leading-and-trailing-space",
    "pem-extra-blank-lines",
    "pem-lowercase-armour",
    "pem-body-only",
    "der",
    "der-base64",
    "jwk-json",
    "jwk-json-pretty",
    "openssh",
    "openssh-with-comment",
    "certificate-pem",
    "certificate-der",
    "pkcs1-pem",
    "pkcs1-der",
]
EC_FORMS = [form for form in RSA_FORMS if not form.startswith("pkcs1")]


@pytest.mark.parametrize("form", RSA_FORMS)
def test_an_rsa_public_key_in_any_encoding_is_refused_as_an_hmac_secret(form, rsa_forms):
    """CVE-2017-11424, CVE-2022-29217, CVE-2024-33663, CVE-2026-48526: public key bytes passed as
    the HMAC secret (the first half of algorithm confusion) are refused when the key is made."""
    with pytest.raises(InvalidKeyError) as info:
        Key.from_secret(rsa_forms[form])
    assert not isinstance(info.value, WeakKeyError), "refused for its length, not for being a public key"


@pytest.mark.parametrize("form", EC_FORMS)
def test_an_ec_public_key_in_any_encoding_is_refused_as_an_hmac_secret(form, ec_forms):
    """CVE-2022-29217 (PyJWT, EC/OpenSSH forms): an EC public key is no HMAC secret either."""
    with pytest.raises(InvalidKeyError) as info:
        Key.from_secret(ec_forms[form])
    assert not isinstance(info.value, WeakKeyError)


def test_an_ec_public_key_in_der_ending_in_a_whitespace_byte_is_refused_as_an_hmac_secret():
    """CVE-2022-29217 (DER form): a DER public key is refused whatever its last byte. The private scalar
    21 gives a P-256 public key whose DER ends in 0x09 (a tab), which ``bytes.strip()`` removes."""
    public = ec.derive_private_key(21, ec.SECP256R1()).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert der.endswith(b"\t")
    with pytest.raises(InvalidKeyError):
        Key.from_secret(der)


def _more_public_key_encodings(key: Key) -> dict[str, bytes]:
    """Encodings of the same public key that the first detector did not recognise."""
    crypto_pub = serialization.load_pem_public_key(key.public_key().to_pem())
    der = crypto_pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    openssh = crypto_pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(openssh.split()[1])
    rfc4716 = (
        b"---- BEGIN SSH2 PUBLIC KEY ----\n"
        + b'Comment: "victim@example"\n'
        + base64.encodebytes(blob)
        + b"---- END SSH2 PUBLIC KEY ----\n"
    )
    return {
        "der-base64url": base64.urlsafe_b64encode(der).rstrip(b"="),
        "ssh2-rfc4716": rfc4716,
        "openssh-blob-base64": openssh.split()[1],
        "openssh-blob-raw": blob,
    }


@pytest.mark.parametrize("form", ["der-base64url", "ssh2-rfc4716", "openssh-blob-base64", "openssh-blob-raw"])
def test_a_public_key_in_a_less_common_encoding_is_refused_as_an_hmac_secret(form, rsa_key):
    """CVE-2022-29217 / CVE-2026-48526 (PyJWT kept finding new encodings): base64url DER, the SSH2
    format of RFC 4716 and the bare OpenSSH key blob are public keys too. The key-type binding still
    stops the forgery at verification (tested above); this is the defence-in-depth half."""
    with pytest.raises(InvalidKeyError):
        Key.from_secret(_more_public_key_encodings(rsa_key)[form])


@pytest.mark.parametrize("form", ["pem", "der", "jwk-json", "openssh"])
def test_a_public_key_is_refused_as_the_k_of_an_oct_jwk(form, rsa_forms):
    """CVE-2024-33663 (python-jose): the same confusion through an ``oct`` JWK's ``k``."""
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({"kty": "oct", "k": forge.b64url(rsa_forms[form])})


@pytest.mark.parametrize("form", RSA_FORMS)
def test_hs256_maced_with_the_rsa_public_key_is_refused_even_when_both_algorithms_are_allowed(form, rsa_key, rsa_forms):
    """CVE-2016-10555 / CVE-2017-11424: the attacker MACs an HS256 token with the server's public
    key. With algorithms=["HS256", "RS256"] and the RSA public Key, the token's HS256 does not fit
    the RSA key, so it is refused before any MAC is computed."""
    tok = forge.hmac_token(HS_HEADER, ADMIN, secret=rsa_forms[form])
    with pytest.raises(AlgorithmNotAllowedError) as info:
        jwtkit.decode(tok, rsa_key.public_key(), algorithms=["HS256", "RS256"], now=NOW)
    assert info.value.claim == "alg"


@pytest.mark.parametrize("form", EC_FORMS)
def test_hs256_maced_with_the_ec_public_key_is_refused_even_when_both_algorithms_are_allowed(form, ec_key, ec_forms):
    """CVE-2022-29217: the same confusion against an ES256 verifier."""
    tok = forge.hmac_token(HS_HEADER, ADMIN, secret=ec_forms[form])
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.decode(tok, ec_key.public_key(), algorithms=["HS256", "ES256"], now=NOW)


@pytest.mark.parametrize("form", ["pem", "der", "jwk-json", "openssh"])
def test_hs256_maced_with_the_public_key_finds_no_key_in_a_key_set(form, rsa_key, rsa_forms):
    """CVE-2017-11424 through a JWKS: the token names the RSA key's kid, but that key cannot verify
    HS256, so no key is found."""
    tok = forge.hmac_token({"alg": "HS256", "kid": "rsa-1"}, ADMIN, secret=rsa_forms[form])
    keys = KeySet([rsa_key.public_key()])
    with pytest.raises(KeyNotFoundError):
        jwtkit.decode(tok, keys, algorithms=["HS256", "RS256"], now=NOW)


def test_hs256_maced_with_the_public_key_is_refused_by_the_jws_layer(rsa_key, rsa_forms):
    """CVE-2017-11424: the raw JWS layer applies the same key-fit rule."""
    tok = forge.hmac_token(HS_HEADER, b"payload", secret=rsa_forms["pem"])
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.jws.verify(tok, rsa_key.public_key(), algorithms=["HS256", "RS256"])


# ---------------------------------------------------------------------------------------------
# Psychic signatures: ECDSA r = s = 0 and out-of-range values (CVE-2022-21449)
# ---------------------------------------------------------------------------------------------
EC_ALGS = ["ES256", "ES384", "ES512", "ES256K"]
CURVE_OF = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}
# The group orders n, from SEC 2 v2 §2.4.2, §2.5.1, §2.6.1 and §2.4.1 (secp256k1); kept here, not
# imported from jwtkit, so the tests do not inherit a typo in the code under test.
ORDERS = {
    "P-256": int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    "P-384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
    "P-521": int("01FF" + "FF" * 28 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16),
    "secp256k1": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16),
}
CRYPTO_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1, "secp256k1": ec.SECP256K1}


@pytest.mark.parametrize("crv", sorted(ORDERS))
def test_the_reference_curve_orders_are_right(crv):
    """Control: n - 1 is a valid private scalar and n is not, per the cryptography library."""
    ec.derive_private_key(ORDERS[crv] - 1, CRYPTO_CURVES[crv]())
    with pytest.raises(ValueError, match="EC key"):
        ec.derive_private_key(ORDERS[crv], CRYPTO_CURVES[crv]())


@pytest.mark.parametrize("crv", ["P-256", "P-384", "P-521", "secp256k1"])
def test_the_range_check_uses_the_real_curve_order(crv):
    """CVE-2022-21449: jwtkit's own check r, s in [1, n-1] is only as good as its n."""
    assert CURVE_ORDERS[crv] == ORDERS[crv]


@pytest.fixture(scope="module")
def ec_cases() -> dict[str, dict[str, object]]:
    """Per EC algorithm: a public key, a valid token, its (r, s) and the curve's order and size."""
    cases = {}
    for alg in EC_ALGS:
        key = Key.generate(alg)
        tok = jwtkit.encode(CLAIMS, key)
        crv = CURVE_OF[alg]
        size = EC_COORDINATE_SIZE[crv]
        signature = forge.b64url_decode_lenient(tok.split(".")[2])
        assert len(signature) == 2 * size
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        cases[alg] = {"key": key.public_key(), "token": tok, "r": r, "s": s, "n": ORDERS[crv], "size": size}
    return cases


def _with_signature(tok: str, signature: bytes) -> str:
    return forge.replace_segment(tok, 2, forge.b64url(signature))


def _rs(r: int, s: int, size: int) -> bytes:
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _out_of_range(variant: str, r: int, s: int, n: int, size: int) -> tuple[int, int]:
    top = 2 ** (8 * size) - 1
    return {
        "r=s=0": (0, 0),
        "r=0": (0, s),
        "s=0": (r, 0),
        "r=n": (n, s),
        "s=n": (r, n),
        "r=s=n": (n, n),
        "r=n+1": (n + 1, s),
        "s=n+1": (r, n + 1),
        "r=n+r": (n + r, s),  # r + n reduces to r modulo n: accepted by a verifier that reduces first
        "s=n+s": (r, n + s),
        "r=max": (top, s),
        "s=max": (r, top),
    }[variant]


OUT_OF_RANGE = ["r=s=0", "r=0", "s=0", "r=n", "s=n", "r=s=n", "r=n+1", "s=n+1", "r=max", "s=max"]


@pytest.mark.parametrize("alg", EC_ALGS)
def test_the_untampered_ecdsa_token_verifies(alg, ec_cases):
    """Control for the psychic-signature tests: the same token with its real signature is valid."""
    case = ec_cases[alg]
    assert jwtkit.decode(case["token"], case["key"], algorithms=[alg], now=NOW) == CLAIMS


@pytest.mark.parametrize("variant", OUT_OF_RANGE)
@pytest.mark.parametrize("alg", EC_ALGS)
def test_an_ecdsa_signature_with_r_or_s_out_of_range_is_refused(alg, variant, ec_cases):
    """CVE-2022-21449 (psychic signatures, Java 15-18): r and s must lie in [1, n-1]; r = s = 0
    verifies every message in a broken implementation."""
    case = ec_cases[alg]
    bad_r, bad_s = _out_of_range(variant, case["r"], case["s"], case["n"], case["size"])
    tok = _with_signature(case["token"], _rs(bad_r, bad_s, case["size"]))
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(tok, case["key"], algorithms=[alg], now=NOW)


@pytest.mark.parametrize("variant", ["r=n+r", "s=n+s"])
def test_an_es512_signature_with_n_added_to_r_or_s_is_refused(variant, ec_cases):
    """CVE-2022-21449 relatives: on P-521 a 66-byte field holds r + n, which equals r modulo n; a
    verifier that reduces before the range check would accept it. (On the other curves r + n does
    not fit the fixed-size field.)"""
    case = ec_cases["ES512"]
    bad_r, bad_s = _out_of_range(variant, case["r"], case["s"], case["n"], case["size"])
    assert max(bad_r, bad_s) < 2 ** (8 * case["size"])
    tok = _with_signature(case["token"], _rs(bad_r, bad_s, case["size"]))
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(tok, case["key"], algorithms=["ES512"], now=NOW)


@pytest.mark.parametrize("variant", ["empty", "one-byte-short", "one-byte-long", "r-only", "doubled", "der"])
@pytest.mark.parametrize("alg", EC_ALGS)
def test_an_ecdsa_signature_of_the_wrong_length_or_encoding_is_refused(alg, variant, ec_cases):
    """CVE-2022-21449 and RFC 7518 §3.4: the signature is exactly R || S of the curve size; DER
    (the encoding the primitives use) and truncated or padded forms are refused."""
    ec_case = ec_cases[alg]
    r, s, size = ec_case["r"], ec_case["s"], ec_case["size"]
    raw = _rs(r, s, size)
    signature = {
        "empty": b"",
        "one-byte-short": raw[:-1],
        "one-byte-long": raw + b"\x00",
        "r-only": raw[:size],
        "doubled": raw + raw,
        "der": encode_dss_signature(r, s),
    }[variant]
    tok = _with_signature(ec_case["token"], signature)
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(tok, ec_case["key"], algorithms=[ec_case["key"].alg], now=NOW)


@pytest.mark.parametrize("alg", EC_ALGS)
def test_an_ecdsa_signature_with_left_padded_r_and_s_is_refused(alg, ec_cases):
    """CVE-2022-21449 relatives: a zero byte prepended to each of r and s is a different length,
    never re-parsed as the same numbers."""
    ec_case = ec_cases[alg]
    r, s, size = ec_case["r"], ec_case["s"], ec_case["size"]
    signature = r.to_bytes(size + 1, "big") + s.to_bytes(size + 1, "big")
    tok = _with_signature(ec_case["token"], signature)
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(tok, ec_case["key"], algorithms=[ec_case["key"].alg], now=NOW)


# ---------------------------------------------------------------------------------------------
# Keys embedded in the header are never used (CVE-2018-0114; jku/x5u SSRF)
# ---------------------------------------------------------------------------------------------
def _private_of(key: Key) -> Any:
    return serialization.load_pem_private_key(key.to_pem(private=True), password=None)


@pytest.fixture(scope="module")
def attacker_headers(attacker_key, self_signed_certificate) -> dict[str, dict[str, object]]:
    return _attacker_headers(attacker_key, self_signed_certificate(_private_of(attacker_key)))


def _attacker_headers(attacker_key: Key, certificate: x509.Certificate) -> dict[str, dict[str, object]]:
    jwk = attacker_key.public_key().to_jwk()
    cert = certificate.public_bytes(serialization.Encoding.DER)
    return {
        "jwk": {"alg": "RS256", "jwk": jwk},
        "jwk-with-victim-kid": {"alg": "RS256", "kid": "rsa-1", "jwk": {**jwk, "kid": "rsa-1"}},
        "jku": {"alg": "RS256", "jku": "http://127.0.0.1:9/jwks.json"},
        "x5u": {"alg": "RS256", "x5u": "http://127.0.0.1:9/cert.pem"},
        "x5c": {"alg": "RS256", "x5c": [base64.b64encode(cert).decode()]},
    }


@pytest.mark.parametrize("header", ["jwk", "jwk-with-victim-kid", "jku", "x5u", "x5c"])
def test_a_key_embedded_in_the_header_is_never_used(header, rsa_key, attacker_key, attacker_headers, no_network):
    """CVE-2018-0114 (node-jose: trusting the header ``jwk``) and jku/x5u SSRF: a token signed by the
    attacker's key, which the header carries or points to, fails with the caller's key and no
    connection is attempted."""
    tok = forge.signed(attacker_headers[header], ADMIN, attacker_key)
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(tok, rsa_key.public_key(), algorithms=["RS256"], now=NOW)
    assert no_network == []


@pytest.mark.parametrize("header", ["jwk", "jwk-with-victim-kid", "jku", "x5u", "x5c"])
def test_a_key_set_never_uses_a_key_embedded_in_the_header(header, rsa_key, attacker_key, attacker_headers, no_network):
    """CVE-2018-0114 through a key set: the key comes from the set (by kid and alg), never the header."""
    tok = forge.signed(attacker_headers[header], ADMIN, attacker_key)
    with pytest.raises((InvalidSignatureError, KeyNotFoundError)):
        jwtkit.decode(tok, KeySet([rsa_key.public_key()]), algorithms=["RS256"], now=NOW)
    assert no_network == []


def test_the_attackers_kid_is_not_found_in_the_key_set(rsa_key, attacker_key):
    """CVE-2018-0114: naming the attacker's own kid finds nothing; it is not added from the header."""
    header = {"alg": "RS256", "kid": "attacker", "jwk": attacker_key.public_key().to_jwk()}
    tok = forge.signed(header, ADMIN, attacker_key)
    with pytest.raises(KeyNotFoundError) as info:
        jwtkit.decode(tok, KeySet([rsa_key.public_key()]), algorithms=["RS256"], now=NOW)
    assert info.value.claim == "kid"


# ---------------------------------------------------------------------------------------------
# crit, b64 and JWE: what jwtkit does not implement is refused, not ignored (RFC 7515 §4.1.11)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra",
    [
        {"crit": ["exp"], "exp": NOW + 1},
        {"crit": ["http://example.invalid/must-check"], "http://example.invalid/must-check": True},
        {"crit": ["kid"], "kid": "x"},
        {"crit": "b64"},
    ],
    ids=["registered-name", "private-name", "kid", "not-a-list"],
)
def test_crit_with_a_parameter_jwtkit_does_not_understand_is_refused(extra, hs_key):
    """RFC 7515 §4.1.11 (and the LESSONS note "crit ignored"): a recipient that does not understand
    a critical extension must reject the JWS."""
    tok = forge.signed({"alg": "HS256", **extra}, CLAIMS, hs_key)
    with pytest.raises(UnsupportedHeaderError) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)
    assert info.value.claim == "crit"


def test_an_empty_crit_list_is_refused(hs_key):
    """RFC 7515 §4.1.11: producers MUST NOT use the empty list as ``crit``."""
    tok = forge.signed({"alg": "HS256", "crit": []}, CLAIMS, hs_key)
    with pytest.raises(UnsupportedHeaderError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize("extra", [{"b64": False, "crit": ["b64"]}, {"b64": False}, {"b64": True}])
def test_an_unencoded_payload_header_is_refused(extra, hs_key):
    """RFC 7797 (b64: false) is mishandled by peers that ignore it and verify the wrong bytes;
    jwtkit does not implement it and refuses the header, with or without ``crit``."""
    tok = forge.signed({"alg": "HS256", **extra}, CLAIMS, hs_key)
    with pytest.raises(UnsupportedHeaderError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)
    with pytest.raises(UnsupportedHeaderError):
        jwtkit.jws.verify(tok, hs_key, algorithms=["HS256"])


def test_a_five_segment_jwe_is_refused_with_a_clear_message(hs_key):
    """JWE decompression bombs and PBES2 ``p2c`` abuse (CVE-2023-50967 class): JWE is not parsed at
    all, and the error says so."""
    header = forge.b64url(json.dumps({"alg": "PBES2-HS256+A128KW", "enc": "A128GCM", "p2c": 10**9}))
    jwe = ".".join([header, *(forge.b64url(part) for part in (b"k" * 24, b"iv" * 6, b"x" * 50, b"t" * 16))])
    with pytest.raises(UnsupportedHeaderError, match="JWE is not supported"):
        jwtkit.decode(jwe, hs_key, algorithms=["HS256"], now=NOW)
    with pytest.raises(UnsupportedHeaderError, match="JWE is not supported"):
        jwtkit.jws.verify(jwe, hs_key, algorithms=["HS256"])
    with pytest.raises(UnsupportedHeaderError, match="JWE is not supported"):
        jwtkit.decode_unverified(jwe)


def test_a_three_segment_token_with_enc_is_refused_as_jwe(hs_key):
    """A JWE header squeezed into three segments (``enc``, ``zip``) is refused, not decompressed."""
    tok = forge.signed({"alg": "HS256", "enc": "A128GCM", "zip": "DEF"}, CLAIMS, hs_key)
    with pytest.raises(UnsupportedHeaderError, match="JWE is not supported"):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


# ---------------------------------------------------------------------------------------------
# Lenient base64url: one token, many spellings (PyJWT 2.12 reproduction; golang-jwt#502)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hs_token(hs_key) -> str:
    """A valid HS256 token whose every segment has 2 or 3 as length mod 4 (so it has unused bits)
    and whose segments use the URL-safe characters ``-`` or ``_`` somewhere."""
    for n in range(10_000):
        tok = jwtkit.encode({**CLAIMS, "jti": f"{n:04d}", "x": "??>>"}, hs_key, headers={"kid": f"??>{n}"})
        parts = tok.split(".")
        if all(len(p) % 4 in (2, 3) for p in parts) and all(set(p) & set("-_") for p in parts):
            return tok
    raise AssertionError("no suitable token found")


@pytest.fixture
def warm_verifier(hs_key, hs_token):
    """A verifier that has already accepted ``hs_token``: its header cache must not let variants in."""
    verifier = jwtkit.Verifier(hs_key, algorithms=["HS256"])
    assert verifier.verify(hs_token, now=NOW)["jti"]
    return verifier


def _non_canonical_last(segment: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return segment[:-1] + alphabet[alphabet.index(segment[-1]) + 1]


SAME_BYTES_VARIANTS = {
    "padding-=": lambda seg: seg + "=" * (-len(seg) % 4),
    "extra-padding-==": lambda seg: seg + "==",
    "standard-alphabet": lambda seg: seg.replace("-", "+").replace("_", "/"),
    "space-inside": lambda seg: seg[:4] + " " + seg[4:],
    "newline-inside": lambda seg: seg[:4] + "\n" + seg[4:],
    "tab-at-end": lambda seg: seg + "\t",
    "non-canonical-last-character": _non_canonical_last,
}


@pytest.mark.parametrize("index", [0, 1, 2], ids=["header", "payload", "signature"])
@pytest.mark.parametrize("variant", sorted(SAME_BYTES_VARIANTS))
def test_a_non_canonical_spelling_of_a_segment_is_refused(variant, index, hs_token, warm_verifier):
    """PyJWT 2.12 and golang-jwt#502: a lenient base64url decoder accepts several spellings of one
    token, so a denylist keyed by the token text misses the variant. Each variant here decodes to
    the very same bytes under a lenient decoder (checked), and is refused. The signature is over
    the header and payload *text*, so their variants may also fail as a bad signature; a signature
    variant leaves the signed text intact, so only strict decoding can refuse it."""
    segment = hs_token.split(".")[index]
    mutated = SAME_BYTES_VARIANTS[variant](segment)
    assert mutated != segment
    assert forge.b64url_decode_lenient("".join(mutated.split())) == forge.b64url_decode_lenient(segment)
    expected = MalformedTokenError if index == 2 else (MalformedTokenError, InvalidSignatureError)
    with pytest.raises(expected):
        warm_verifier.verify(forge.replace_segment(hs_token, index, mutated), now=NOW)


@pytest.mark.parametrize("junk", ["=", "==junk", "=.", "A", "AA", "AAAA", "%00", "\x00", "é"])
def test_junk_appended_to_the_signature_is_refused(junk, hs_token, warm_verifier):
    """PyJWT 2.12 (reproduced in LESSONS): a signature with ``=`` or junk after it verified, because
    the decoder stopped early. Any appended text makes the token invalid."""
    with pytest.raises((MalformedTokenError, InvalidSignatureError)):
        warm_verifier.verify(hs_token + junk, now=NOW)


@pytest.mark.parametrize("where", ["leading-space", "trailing-newline", "trailing-space", "bearer-prefix"])
def test_whitespace_or_a_prefix_around_the_token_is_refused(where, hs_token, warm_verifier):
    """Lenient parsing class (golang-jwt#502): the token text is taken exactly as given."""
    tok = {
        "leading-space": " " + hs_token,
        "trailing-newline": hs_token + "\n",
        "trailing-space": hs_token + " ",
        "bearer-prefix": "Bearer " + hs_token,
    }[where]
    with pytest.raises(MalformedTokenError):
        warm_verifier.verify(tok, now=NOW)


# ---------------------------------------------------------------------------------------------
# JSON parsing: duplicates, non-objects, NaN, size and depth (LESSONS: foreign exceptions escape)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"HS256","alg":"none"}',
        b'{"alg":"none","alg":"HS256"}',
        b'{"alg":"HS256","kid":"a","kid":"b"}',
        b'{"alg":"HS256","crit":["x"],"crit":[]}',
    ],
    ids=["alg-then-none", "none-then-alg", "kid-twice", "crit-twice"],
)
def test_duplicate_header_members_are_refused(header, hs_key):
    """RFC 7515 §5.2 / RFC 8725 §3.8 (JSON parser differentials): a header with one member twice
    reads differently in different parsers; jwtkit refuses it."""
    tok = forge.signed(header, CLAIMS, hs_key, alg="HS256")
    with pytest.raises(MalformedTokenError, match="duplicate"):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


def test_duplicate_claims_are_refused(hs_key):
    """RFC 7519 §4 parser differentials: ``{"role":"user","role":"admin"}`` means different things
    to different parsers, so it is refused, not resolved to the last value."""
    tok = forge.signed(HS_HEADER, b'{"sub":"alice","role":"user","role":"admin"}', hs_key)
    with pytest.raises(MalformedTokenError, match="duplicate"):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize("header", [b"[]", b"null", b'"HS256"', b"1", b"", b"\xff\xfe{}", b'{"alg":"HS256"} x'])
def test_a_header_that_is_not_a_utf8_json_object_is_refused(header, hs_key):
    """RFC 7515 §5.2: the header is a UTF-8 JSON object, nothing else."""
    tok = forge.signed(header, CLAIMS, hs_key, alg="HS256")
    with pytest.raises(MalformedTokenError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize("payload", [b"[]", b"null", b'"sub"', b"", b"\xc3\x28", b'{"sub":"a"}{}'])
def test_a_payload_that_is_not_a_utf8_json_object_is_refused(payload, hs_key):
    """RFC 7519 §7.2: the claims set is a UTF-8 JSON object."""
    tok = forge.signed(HS_HEADER, payload, hs_key)
    with pytest.raises(MalformedTokenError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["header", "payload"])
def test_nan_and_infinity_literals_are_refused(literal, where, hs_key):
    """LESSONS (joserfc: ``exp`` that never expires): ``NaN``/``Infinity`` are not JSON (RFC 8259 §6);
    Python's json module accepts them unless told not to."""
    header = f'{{"alg":"HS256","x":{literal}}}' if where == "header" else HS_HEADER
    payload = f'{{"sub":"a","exp":{literal}}}' if where == "payload" else CLAIMS
    tok = forge.signed(header, payload, hs_key, alg="HS256")
    with pytest.raises(MalformedTokenError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)


def test_an_oversized_token_is_refused_before_decoding(hs_key):
    """JWT bombs (RFC 8725 §3.1 resource exhaustion): tokens above the documented size cap
    (``jwtkit.jws.MAX_TOKEN_SIZE``) are refused as malformed, before any base64 work."""
    big = jwtkit.encode({"sub": "a", "pad": "x" * jwtkit.jws.MAX_TOKEN_SIZE}, hs_key)
    assert len(big) > jwtkit.jws.MAX_TOKEN_SIZE
    with pytest.raises(MalformedTokenError, match="longer than"):
        jwtkit.decode(big, hs_key, algorithms=["HS256"])
    with pytest.raises(MalformedTokenError, match="longer than"):
        jwtkit.decode(big.encode(), hs_key, algorithms=["HS256"])
    with pytest.raises(MalformedTokenError, match="longer than"):
        jwtkit.decode_unverified(big)


def test_the_size_cap_is_configurable_per_verifier(hs_key):
    """The cap is ``max_token_size``; a token just over it is refused, one at it is accepted."""
    tok = jwtkit.encode(CLAIMS, hs_key)
    assert jwtkit.Verifier(hs_key, algorithms=["HS256"], max_token_size=len(tok)).verify(tok, now=NOW) == CLAIMS
    with pytest.raises(MalformedTokenError):
        jwtkit.Verifier(hs_key, algorithms=["HS256"], max_token_size=len(tok) - 1).verify(tok, now=NOW)


@pytest.mark.parametrize("opener", ["[", '{"a":'], ids=["arrays", "objects"])
@pytest.mark.parametrize("where", ["header", "payload"])
def test_deeply_nested_json_is_refused_without_recursion_error(opener, where, hs_key):
    """LESSONS (PyJWT, jwcrypto: RecursionError escapes): 100 000 levels of nesting give a
    MalformedTokenError, not a RecursionError (which pytest.raises would let through)."""
    closer = "]" if opener == "[" else "}"
    deep = opener * 100_000 + "1" + closer * 100_000
    header = f'{{"alg":"HS256","x":{deep}}}' if where == "header" else HS_HEADER
    payload = f'{{"sub":"a","x":{deep}}}' if where == "payload" else CLAIMS
    tok = forge.signed(header, payload, hs_key, alg="HS256")
    verifier = jwtkit.Verifier(hs_key, algorithms=["HS256"], max_token_size=10 * len(tok))
    with pytest.raises(MalformedTokenError, match="nested too deeply"):
        verifier.verify(tok, now=NOW)


def test_deep_nesting_within_the_default_size_cap_is_refused(hs_key):
    """The same with the default cap: 6 000 levels fit in 16 KiB and still give a clean error."""
    tok = forge.signed(HS_HEADER, "[" * 6000 + "]" * 6000, hs_key)
    assert len(tok) <= jwtkit.jws.MAX_TOKEN_SIZE
    with pytest.raises(MalformedTokenError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)
    with pytest.raises(MalformedTokenError):
        jwtkit.decode_unverified(tok)


# ---------------------------------------------------------------------------------------------
# Hostile claim values (LESSONS: OverflowError, TypeError, bool-as-int; CVE-2024-53861)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "exp",
    [
        "1e400",
        "-1e400",
        "true",
        "false",
        '"9999999999"',
        "null",
        "[9999999999]",
        '{"t":1}',
        "1e309",
        "9" * 400,
        "9" * 5000,
    ],
    ids=["1e400", "-1e400", "true", "false", "string", "null", "list", "object", "1e309", "400-digits", "5000-digits"],
)
def test_a_hostile_exp_value_is_an_invalid_claim(exp, hs_key):
    """LESSONS: ``exp: 1e400`` overflows (PyJWT OverflowError; joserfc treats 1e309 as never
    expiring), ``exp: true`` is the int 1 in Python, ``"9999999999"`` is a string, not a date."""
    tok = forge.signed(HS_HEADER, f'{{"sub":"a","exp":{exp}}}', hs_key)
    with pytest.raises((InvalidClaimError, MalformedTokenError)) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)
    if isinstance(info.value, InvalidClaimError):
        assert info.value.claim == "exp"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
@pytest.mark.parametrize("value", ["1e400", "true", '"0"', "null"])
def test_a_hostile_nbf_or_iat_value_is_an_invalid_claim(claim, value, hs_key):
    """Same class as ``exp``: NumericDate claims are finite numbers, never bools or strings."""
    tok = forge.signed(HS_HEADER, f'{{"sub":"a","{claim}":{value}}}', hs_key)
    with pytest.raises(InvalidClaimError) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)
    assert info.value.claim == claim


@pytest.mark.parametrize("iss", [["https://auth.example"], {"iss": "https://auth.example"}, 1, True])
def test_an_issuer_that_is_not_a_string_is_refused(iss, hs_key):
    """LESSONS (issuer by list): ``iss`` is a StringOrURI (RFC 7519 §4.1.1); a list holding the
    expected issuer is not the expected issuer."""
    tok = forge.signed(HS_HEADER, {"sub": "a", "iss": iss}, hs_key)
    with pytest.raises(InvalidClaimError) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], issuer="https://auth.example", now=NOW)
    assert info.value.claim == "iss"


@pytest.mark.parametrize("iss", ["https://auth.example", "auth.example.com", "", "h", "https://auth.example.com/"])
def test_an_issuer_that_is_a_substring_or_prefix_of_the_expected_one_is_refused(iss, hs_key):
    """CVE-2024-53861 (PyJWT 2.10.0: ``payload["iss"] not in issuer`` did a substring test, so
    ``"acb"``-style partial issuers passed): issuers are compared as exact strings."""
    tok = forge.signed(HS_HEADER, {"sub": "a", "iss": iss}, hs_key)
    with pytest.raises(InvalidIssuerError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], issuer="https://auth.example.com", now=NOW)


@pytest.mark.parametrize(
    "aud",
    ["api", "api.example.co", "", "ipa.example.com", ["api"], ["a", "p", "i"], ["API.EXAMPLE.COM"]],
)
def test_an_audience_that_is_a_substring_or_near_miss_is_refused(aud, hs_key):
    """CVE-2024-53861 class (substring/containment tests on ``aud``): audiences compare exactly,
    element by element."""
    tok = forge.signed(HS_HEADER, {"sub": "a", "aud": aud}, hs_key)
    with pytest.raises(InvalidAudienceError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], audience="api.example.com", now=NOW)


@pytest.mark.parametrize("aud", [[], [1], ["api.example.com", 1], [["api.example.com"]], {"a": 1}, 7, False])
def test_an_audience_that_is_not_a_string_or_a_non_empty_list_of_strings_is_refused(aud, hs_key):
    """LESSONS: an empty ``aud`` list, and lists holding non-strings, are invalid (RFC 7519 §4.1.3)."""
    tok = forge.signed(HS_HEADER, {"sub": "a", "aud": aud}, hs_key)
    with pytest.raises(InvalidClaimError) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], audience="api.example.com", now=NOW)
    assert info.value.claim == "aud"


@pytest.mark.parametrize("aud", ["api.example.com", ["api.example.com"], []])
def test_a_token_with_an_audience_is_refused_when_no_audience_is_expected(aud, hs_key):
    """RFC 7519 §4.1.3: a token meant for some audience must be rejected by a recipient that does
    not identify itself with it; a verifier with no ``audience`` identifies with none."""
    tok = forge.signed(HS_HEADER, {"sub": "a", "aud": aud}, hs_key)
    with pytest.raises((InvalidAudienceError, InvalidClaimError)) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW)
    assert info.value.claim == "aud"


def test_a_refresh_token_is_refused_where_an_access_token_is_expected(hs_key):
    """RFC 8725 §3.11 (explicit typing) and RFC 9068: a token of another type, signed by the same
    key, is refused when ``typ=`` is set."""
    tok = jwtkit.encode(CLAIMS, hs_key, headers={"typ": "refresh+jwt"})
    assert jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW) == CLAIMS
    with pytest.raises(InvalidClaimError) as info:
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], typ="at+jwt", now=NOW)
    assert info.value.claim == "typ"


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt+refresh", "application/refresh+jwt", ""])
def test_a_token_without_the_expected_typ_is_refused(typ, hs_key):
    """RFC 8725 §3.11: with ``typ="at+jwt"``, a missing or different ``typ`` is refused."""
    tok = jwtkit.encode(CLAIMS, hs_key, headers={"typ": typ})
    with pytest.raises(InvalidClaimError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], typ="at+jwt", now=NOW)


@pytest.mark.parametrize("typ", [["at+jwt"], 1, {"t": "at+jwt"}])
def test_a_typ_that_is_not_a_string_is_refused(typ, hs_key):
    """RFC 7515 §4.1.9: ``typ`` is a string; a list holding the expected value is not accepted."""
    tok = forge.signed({"alg": "HS256", "typ": typ}, CLAIMS, hs_key)
    with pytest.raises(MalformedTokenError):
        jwtkit.decode(tok, hs_key, algorithms=["HS256"], typ="at+jwt", now=NOW)


@pytest.mark.parametrize("kid", [1, ["rsa-1"], {"kid": "rsa-1"}, True])
def test_a_kid_that_is_not_a_string_is_refused(kid, rsa_key):
    """RFC 7515 §4.1.4: ``kid`` is a string; a list or object is not looked up."""
    tok = forge.signed({"alg": "RS256", "kid": kid}, CLAIMS, rsa_key)
    with pytest.raises(MalformedTokenError):
        jwtkit.decode(tok, KeySet([rsa_key.public_key()]), algorithms=["RS256"], now=NOW)


def test_hmac_forgery_helper_matches_jwtkit(hs_key):
    """Control for the forge: a token MACed by the standard library with the real secret verifies,
    so the confusion tests fail for the right reason."""
    tok = forge.hmac_token(HS_HEADER, CLAIMS, secret=b"k" * 16 + bytes(range(16)))
    assert jwtkit.decode(tok, hs_key, algorithms=["HS256"], now=NOW) == CLAIMS
    assert hmac.compare_digest(
        forge.b64url_decode_lenient(tok.split(".")[2]),
        hmac.new(b"k" * 16 + bytes(range(16)), tok.rsplit(".", 1)[0].encode(), hashlib.sha256).digest(),
    )


def test_claims_nested_deeper_than_the_documented_limit_are_malformed_whatever_the_stack():
    """STYLE §15: depth is capped explicitly (MAX_JSON_DEPTH), not by Python's recursion limit."""
    from jwtkit.core.codec import MAX_JSON_DEPTH

    key = Key.generate("HS256")
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    token = forge.signed({"alg": "HS256"}, ('{"x":' + deep + "}").encode(), key)
    with pytest.raises(MalformedTokenError, match="nested too deeply"):
        jwtkit.decode(token, key, algorithms=["HS256"])


def test_claims_nested_exactly_to_the_limit_are_accepted():
    from jwtkit.core.codec import MAX_JSON_DEPTH

    key = Key.generate("HS256")
    inner = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    token = forge.signed({"alg": "HS256"}, ('{"x":' + inner + "}").encode(), key)
    assert "x" in jwtkit.decode(token, key, algorithms=["HS256"])


def test_brackets_inside_strings_do_not_count_as_nesting():
    key = Key.generate("HS256")
    token = jwtkit.encode({"x": "[" * 1000 + "{" * 1000}, key)
    assert jwtkit.decode(token, key, algorithms=["HS256"])["x"].startswith("[[[")
