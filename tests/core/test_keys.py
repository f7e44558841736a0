"""Key and KeySet: construction rules, algorithm binding, export, and JWK/PEM validation.

A key is bound to its algorithm (or, without ``alg``, to its family); weak material is refused
when the key is made (RFC 7518 §3.2, §3.3); exports never leak private members unless asked.
"""

from __future__ import annotations

import json

import forge
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

import jwtkit
from jwtkit import (
    AlgorithmNotAllowedError,
    InvalidKeyError,
    InvalidSignatureError,
    Key,
    KeyNotFoundError,
    KeySet,
    WeakKeyError,
)
from support.constants import NOW

CLAIMS = {"sub": "alice", "exp": NOW + 60}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
RSA_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}


@pytest.fixture(scope="module")
def rsa_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_1024() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.fixture(scope="module")
def rsa_key(rsa_private) -> Key:
    """An RSA key with no ``alg``: bound to the RSA family only."""
    return Key.from_cryptography(rsa_private)


@pytest.fixture(scope="module")
def ec_jwk() -> dict[str, str]:
    """A private P-256 JWK without ``alg``."""
    jwk = Key.generate("ES256").to_jwk(private=True)
    del jwk["alg"]
    return jwk


def _pem(key: object, fmt: str) -> bytes:
    if fmt == "pkcs8":
        return key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    if fmt == "traditional":
        return key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    if fmt == "spki":
        return key.public_key().public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if fmt == "pkcs1":
        return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)  # type: ignore[attr-defined]
    raise AssertionError(fmt)


# ---------------------------------------------------------------------------------------------
# Weak keys (RFC 7518 §3.2, §3.3)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("alg", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_an_hmac_secret_shorter_than_the_hash_output_is_weak(alg, size):
    """RFC 7518 §3.2: a key of the same size as the hash output or larger MUST be used."""
    with pytest.raises(WeakKeyError) as info:
        Key.from_secret(b"s" * (size - 1), alg=alg)
    assert str(size) in str(info.value)
    assert info.value.code == "weak_key"


@pytest.mark.parametrize(("alg", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_an_hmac_secret_as_long_as_the_hash_output_is_accepted(alg, size):
    key = Key.from_secret(bytes(range(size)), alg=alg)
    assert key.alg == alg
    assert jwtkit.decode(jwtkit.encode(CLAIMS, key), key, algorithms=[alg], now=NOW) == CLAIMS


@pytest.mark.parametrize(("alg", "size"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_an_oct_jwk_shorter_than_its_algorithms_hash_is_weak(alg, size):
    """RFC 7518 §3.2 through a JWK: the rule does not depend on how the secret arrives."""
    with pytest.raises(WeakKeyError):
        Key.from_jwk({"kty": "oct", "k": forge.b64url(bytes(size - 1)), "alg": alg})


def test_an_oct_jwk_without_alg_needs_at_least_an_hs256_sized_secret():
    with pytest.raises(WeakKeyError):
        Key.from_jwk({"kty": "oct", "k": forge.b64url(bytes(31))})


def test_an_oct_jwk_without_alg_fits_only_the_hmac_algorithms_its_length_allows():
    """A 48-byte family-bound secret may do HS256 and HS384 but not HS512 (too short)."""
    key = Key.from_jwk({"kty": "oct", "k": forge.b64url(bytes(range(48)))})
    assert key.algorithms == {"HS256", "HS384"}
    assert not key.fits("HS512")


def test_an_empty_secret_is_weak():
    with pytest.raises(WeakKeyError):
        Key.from_secret(b"")


def test_the_weak_key_error_does_not_show_the_secret():
    secret = b"hunter2-hunter2-hunter2"
    with pytest.raises(WeakKeyError) as info:
        Key.from_secret(secret)
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value)


def test_an_rsa_key_under_2048_bits_is_weak_from_a_private_pem(rsa_1024):
    """RFC 7518 §3.3: a key of size 2048 bits or larger MUST be used."""
    with pytest.raises(WeakKeyError, match="2048"):
        Key.from_pem(_pem(rsa_1024, "pkcs8"))


def test_an_rsa_key_under_2048_bits_is_weak_from_a_public_pem(rsa_1024):
    with pytest.raises(WeakKeyError):
        Key.from_pem(_pem(rsa_1024, "spki"))


def test_an_rsa_key_under_2048_bits_is_weak_from_a_certificate(rsa_1024, self_signed_certificate):
    with pytest.raises(WeakKeyError):
        Key.from_pem(self_signed_certificate(rsa_1024).public_bytes(serialization.Encoding.PEM))


def test_an_rsa_key_under_2048_bits_is_weak_from_a_jwk(rsa_1024):
    numbers = rsa_1024.private_numbers()
    public = {"kty": "RSA", "n": _uint(numbers.public_numbers.n), "e": _uint(numbers.public_numbers.e)}
    with pytest.raises(WeakKeyError):
        Key.from_jwk(public)
    with pytest.raises(WeakKeyError):
        Key.from_jwk({**public, "d": _uint(numbers.d)})


def test_an_rsa_key_under_2048_bits_is_weak_from_a_cryptography_object(rsa_1024):
    with pytest.raises(WeakKeyError):
        Key.from_cryptography(rsa_1024)
    with pytest.raises(WeakKeyError):
        Key.from_cryptography(rsa_1024.public_key())


def test_a_jwk_whose_modulus_has_a_leading_zero_byte_still_counts_its_real_bits(rsa_1024):
    """A 1024-bit modulus padded with zero bytes to 256 bytes is still a 1024-bit key."""
    n = rsa_1024.public_key().public_numbers().n
    with pytest.raises(WeakKeyError):
        Key.from_jwk({"kty": "RSA", "n": forge.b64url(n.to_bytes(256, "big")), "e": "AQAB"})


def _uint(value: int) -> str:
    return forge.b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


# ---------------------------------------------------------------------------------------------
# Binding: a key's algorithm comes from the key, never from the token
# ---------------------------------------------------------------------------------------------
def test_an_ec_p256_jwk_without_alg_is_bound_to_es256_only(ec_jwk):
    key = Key.from_jwk(ec_jwk)
    assert key.alg is None
    assert key.algorithms == {"ES256"}
    assert key.signing_algorithm == "ES256"
    for other in ("ES384", "ES512", "ES256K", "RS256", "PS256", "HS256", "EdDSA"):
        assert not key.fits(other)


def test_an_rsa_jwk_without_alg_fits_rs_and_ps_but_not_hs_or_es(rsa_key):
    key = Key.from_jwk(rsa_key.to_jwk())
    assert key.algorithms == RSA_ALGS
    for other in ("HS256", "ES256", "EdDSA"):
        assert not key.fits(other)


def test_an_rsa_key_without_alg_verifies_both_rs256_and_ps256_tokens(rsa_key):
    public = rsa_key.public_key()
    for alg in ("RS256", "PS256"):
        tok = forge.signed({"alg": alg}, CLAIMS, rsa_key)
        assert jwtkit.decode(tok, public, algorithms=["RS256", "PS256"], now=NOW) == CLAIMS


def test_an_rsa_key_without_alg_cannot_choose_what_to_sign_with(rsa_key):
    """Several algorithms fit an alg-less RSA key, so signing with it is ambiguous: bind one first."""
    with pytest.raises(ValueError, match="alg"):
        jwtkit.encode(CLAIMS, rsa_key)


def test_an_rsa_jwk_with_alg_rs256_refuses_a_ps256_token(rsa_key):
    """The JWK's own ``alg`` narrows the family to one algorithm, even if the caller allows more."""
    bound = Key.from_jwk({**rsa_key.to_jwk(), "alg": "RS256"})
    assert bound.algorithms == {"RS256"}
    tok = forge.signed({"alg": "PS256"}, CLAIMS, rsa_key)
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.decode(tok, bound, algorithms=["RS256", "PS256"], now=NOW)


def test_an_ed25519_jwk_without_alg_fits_eddsa_and_ed25519():
    """RFC 8037 (EdDSA) and RFC 9864 (the fully specified Ed25519 name)."""
    jwk = Key.generate("EdDSA").public_key().to_jwk()
    del jwk["alg"]
    assert Key.from_jwk(jwk).algorithms == {"EdDSA", "Ed25519"}


def test_an_ed448_jwk_without_alg_fits_eddsa_and_ed448_but_not_ed25519():
    """RFC 9864: the fully specified ``Ed25519`` name cannot be used with an Ed448 key."""
    jwk = Key.generate("Ed448").public_key().to_jwk()
    del jwk["alg"]
    key = Key.from_jwk(jwk)
    assert key.algorithms == {"EdDSA", "Ed448"}
    assert not key.fits("Ed25519")


def test_a_jwk_alg_that_conflicts_with_the_requested_alg_is_refused(ec_jwk):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({**ec_jwk, "alg": "ES256"}, alg="ES384")


@pytest.mark.parametrize("alg", ["ES384", "RS256", "HS256", "EdDSA"])
def test_binding_an_ec_p256_jwk_to_another_algorithm_is_refused(alg, ec_jwk):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(ec_jwk, alg=alg)


@pytest.mark.parametrize("alg", ["RSA-OAEP", "A128KW", "dir", "none", "ECDH-ES"])
def test_a_jwk_with_a_non_signature_alg_is_refused(alg, ec_jwk):
    with pytest.raises(InvalidKeyError) as info:
        Key.from_jwk({**ec_jwk, "alg": alg})
    assert info.value.claim == "alg"


def test_a_pem_key_bound_to_an_algorithm_of_another_family_is_refused(rsa_private):
    with pytest.raises(InvalidKeyError):
        Key.from_pem(_pem(rsa_private, "pkcs8"), alg="ES256")


# ---------------------------------------------------------------------------------------------
# Export: to_jwk, public_key, thumbprint, repr
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["RS256", "PS384", "ES256", "ES512", "ES256K", "EdDSA", "Ed448"])
def private_key(request) -> Key:
    return Key.generate(request.param, kid=f"kid-{request.param}")


def test_to_jwk_never_contains_private_members_unless_asked(private_key):
    assert not PRIVATE_MEMBERS & set(private_key.to_jwk())


def test_to_jwk_private_true_holds_the_private_members(private_key):
    jwk = private_key.to_jwk(private=True)
    assert "d" in jwk
    if private_key.kty == "RSA":
        assert {"p", "q", "dp", "dq", "qi"} <= set(jwk)


def test_a_private_jwk_round_trips_to_an_equal_key(private_key):
    again = Key.from_jwk(private_key.to_jwk(private=True))
    assert again == private_key
    assert again.is_private


def test_public_key_drops_the_private_half(private_key):
    public = private_key.public_key()
    assert private_key.is_private
    assert not public.is_private
    assert not PRIVATE_MEMBERS & set(public.to_jwk())
    assert public.alg == private_key.alg
    assert public.kid == private_key.kid
    with pytest.raises(ValueError, match="public"):
        public.to_jwk(private=True)
    with pytest.raises(ValueError, match="public"):
        public.to_pem(private=True)


def test_the_public_pem_holds_no_private_key(private_key):
    pem = private_key.to_pem()
    assert b"PRIVATE" not in pem
    assert Key.from_pem(pem).thumbprint() == private_key.thumbprint()


def test_the_thumbprint_is_the_same_for_the_private_and_public_key(private_key):
    """RFC 7638 §3.2: only the required public members go into the thumbprint."""
    assert private_key.thumbprint() == private_key.public_key().thumbprint()
    assert private_key.thumbprint() == Key.from_jwk(private_key.public_key().to_jwk()).thumbprint()


def test_the_thumbprint_ignores_kid_and_alg(private_key):
    jwk = private_key.public_key().to_jwk()
    stripped = {k: v for k, v in jwk.items() if k not in ("kid", "alg")}
    assert Key.from_jwk(stripped).thumbprint() == private_key.thumbprint()


def test_different_keys_have_different_thumbprints():
    assert Key.generate("ES256").thumbprint() != Key.generate("ES256").thumbprint()


def test_repr_never_shows_private_material(private_key):
    text = repr(private_key) + str(private_key)
    for name, value in private_key.to_jwk(private=True).items():
        if name in PRIVATE_MEMBERS:
            assert value not in text
            assert value[:16] not in text
    assert private_key.thumbprint() in text


def test_repr_never_shows_an_hmac_secret():
    secret = b"correct horse battery staple, 32+ bytes"
    key = Key.from_secret(secret, kid="k1")
    text = repr(key) + str(key) + repr(KeySet([key]))
    for form in (secret.decode(), repr(secret), secret.hex(), forge.b64url(secret), forge.b64url(secret)[:12]):
        assert form not in text
    assert "k1" in text


def test_an_hmac_secret_has_no_public_form():
    key = Key.generate("HS256")
    with pytest.raises(ValueError, match="to_jwk"):
        key.to_jwk()
    with pytest.raises(ValueError, match="public key"):
        key.public_key()
    with pytest.raises(ValueError, match="PEM"):
        key.to_pem()
    assert Key.from_jwk(key.to_jwk(private=True)) == key


def test_keys_are_immutable_and_hashable(private_key):
    with pytest.raises(AttributeError):
        private_key.kid = "other"  # type: ignore[misc]
    assert {private_key, Key.from_jwk(private_key.to_jwk(private=True))} == {private_key}


# ---------------------------------------------------------------------------------------------
# JWK validation (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2)
# ---------------------------------------------------------------------------------------------
def test_a_jwk_for_encryption_is_refused(ec_jwk):
    """RFC 7517 §4.2: ``use: enc`` keys are for encryption, not signatures."""
    with pytest.raises(InvalidKeyError) as info:
        Key.from_jwk({**ec_jwk, "use": "enc"})
    assert info.value.claim == "use"


def test_a_jwk_for_signatures_is_accepted(ec_jwk):
    assert Key.from_jwk({**ec_jwk, "use": "sig"}).algorithms == {"ES256"}


@pytest.mark.parametrize("ops", [["encrypt"], ["wrapKey", "unwrapKey"], ["deriveKey"], []])
def test_a_jwk_whose_key_ops_allow_neither_sign_nor_verify_is_refused(ops, ec_jwk):
    """RFC 7517 §4.3: the key's permitted operations must include sign or verify."""
    with pytest.raises(InvalidKeyError) as info:
        Key.from_jwk({**ec_jwk, "key_ops": ops})
    assert info.value.claim == "key_ops"


@pytest.mark.parametrize("ops", ["sign", ["sign", "sign"], [1]])
def test_a_jwk_with_malformed_key_ops_is_refused(ops, ec_jwk):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({**ec_jwk, "key_ops": ops})


@pytest.mark.parametrize("ops", [["verify"], ["sign", "verify"]])
def test_a_jwk_with_sign_or_verify_in_key_ops_is_accepted(ops, ec_jwk):
    assert Key.from_jwk({**ec_jwk, "key_ops": ops}).is_private


def test_an_ec_point_off_the_curve_is_refused(ec_jwk):
    """Invalid-curve attacks (e.g. CVE-2017-16007 class): the point must be on the named curve."""
    y = int.from_bytes(forge.b64url_decode_lenient(ec_jwk["y"]), "big")
    off = {k: v for k, v in ec_jwk.items() if k != "d"}
    off["y"] = forge.b64url(((y + 1) % 2**256).to_bytes(32, "big"))
    with pytest.raises(InvalidKeyError, match="not on"):
        Key.from_jwk(off)


def test_an_ec_jwk_with_a_coordinate_of_the_wrong_length_is_refused(ec_jwk):
    """RFC 7518 §6.2.1.2: x and y are the full coordinate size (32 bytes for P-256)."""
    x = forge.b64url_decode_lenient(ec_jwk["x"])
    public = {k: v for k, v in ec_jwk.items() if k != "d"}
    for wrong in (x[1:], b"\x00" + x):
        with pytest.raises(InvalidKeyError) as info:
            Key.from_jwk({**public, "x": forge.b64url(wrong)})
        assert info.value.claim == "x"


def test_an_ec_jwk_whose_d_does_not_match_x_and_y_is_refused(ec_jwk):
    other = Key.generate("ES256").to_jwk(private=True)
    with pytest.raises(InvalidKeyError) as info:
        Key.from_jwk({**ec_jwk, "d": other["d"]})
    assert info.value.claim == "d"
    assert other["d"] not in str(info.value)


def test_an_ec_jwk_on_the_wrong_curve_for_its_coordinates_is_refused(ec_jwk):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({**ec_jwk, "crv": "P-384"})


def test_an_ed25519_jwk_whose_d_does_not_match_x_is_refused():
    a = Key.generate("EdDSA").to_jwk(private=True)
    b = Key.generate("EdDSA").to_jwk(private=True)
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({**a, "d": b["d"]})


def test_an_rsa_jwk_whose_private_members_do_not_match_is_refused(rsa_key):
    jwk = rsa_key.to_jwk(private=True)
    other = Key.generate("RS256").to_jwk(private=True)
    with pytest.raises(InvalidKeyError) as info:
        Key.from_jwk({**jwk, "d": other["d"]})
    assert other["d"][:20] not in str(info.value)


def test_an_x25519_jwk_is_refused():
    """RFC 8037 §3.2: X25519 is for key agreement (ECDH-ES), never signatures."""
    raw = (
        x25519.X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    with pytest.raises(InvalidKeyError) as info:
        Key.from_jwk({"kty": "OKP", "crv": "X25519", "x": forge.b64url(raw)})
    assert info.value.claim == "crv"


@pytest.mark.parametrize("kty", ["foo", "rsa", "ec", "", None, 1])
def test_a_jwk_of_an_unknown_key_type_is_refused(kty):
    with pytest.raises(InvalidKeyError) as info:
        Key.from_jwk({"kty": kty, "k": forge.b64url(bytes(32))})
    assert info.value.claim == "kty"


def test_a_jwk_without_kty_is_refused():
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({"k": forge.b64url(bytes(32))})


@pytest.mark.parametrize("text", ["not json", "[]", '"kty"', "{", '{"kty":"EC","crv":"P-256","x":1,"y":2}'])
def test_a_jwk_that_is_not_a_json_object_of_strings_is_refused(text):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(text)


def test_a_jwk_member_in_lenient_base64_is_refused(ec_jwk):
    """Strict base64url applies to key material too (no padding, no standard alphabet)."""
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({**ec_jwk, "x": ec_jwk["x"] + "="})


def test_a_jwk_with_a_non_string_kid_is_refused(ec_jwk):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk({**ec_jwk, "kid": 7})


HOSTILE_JWKS = {
    "kty-list": {"kty": ["EC"]},
    "use-list": {"kty": "EC", "use": ["sig"]},
    "key-ops-dict": {"kty": "EC", "key_ops": {"sign": True}},
    "alg-list": {"kty": "EC", "alg": ["ES256"]},
    "crv-list-ec": {"kty": "EC", "crv": ["P-256"], "x": "AAAA", "y": "AAAA"},
    "crv-list-okp": {"kty": "OKP", "crv": ["Ed25519"], "x": "AAAA"},
    "x-number": {"kty": "OKP", "crv": "Ed25519", "x": 1},
    "n-list": {"kty": "RSA", "n": ["AQAB"], "e": "AQAB"},
    "deep-text": '{"kty":' + "[" * 30_000 + "]" * 30_000 + "}",
    "nan-text": '{"kty":"oct","k":NaN}',
    "huge-integer-text": '{"kty":"oct","k":' + "9" * 5000 + "}",
    "oversized-text": '{"kty":"oct","k":"' + "A" * 70_000 + '"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JWKS))
def test_a_hostile_jwk_raises_only_invalid_key_error(name):
    """A JWK may come from a remote JWKS: member values of any JSON type give InvalidKeyError,
    never a TypeError or RecursionError."""
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(HOSTILE_JWKS[name])


@pytest.mark.parametrize(
    "member",
    [
        pytest.param({"kty": ["EC"]}, id="kty-list"),
        pytest.param({"kty": {"EC": 1}}, id="kty-object"),
        pytest.param({"kty": "EC", "alg": ["ES256"]}, id="alg-list"),
        pytest.param({"kty": "OKP", "crv": ["Ed25519"], "x": "AAAA"}, id="crv-list"),
        pytest.param({"kty": "EC", "use": {"sig": 1}}, id="use-object"),
    ],
)
def test_a_jwks_with_a_hostile_member_raises_only_invalid_key_error(member, es_keys):
    """The same for a whole JWKS: a hostile entry is skipped or refused, with no foreign exception."""
    a, _ = es_keys
    try:
        keys = KeySet.from_jwks({"keys": [member, a.public_key().to_jwk()]})
    except InvalidKeyError:
        return
    assert list(keys) == [a.public_key()]


def test_a_deeply_nested_jwks_raises_invalid_key_error():
    with pytest.raises(InvalidKeyError):
        KeySet.from_jwks('{"keys":' + "[" * 30_000 + "]" * 30_000 + "}")


def test_a_jwk_may_be_given_as_json_text(ec_jwk):
    assert Key.from_jwk(json.dumps(ec_jwk)) == Key.from_jwk(ec_jwk)


# ---------------------------------------------------------------------------------------------
# PEM: private, public, certificate, encrypted
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["pkcs8", "traditional"])
def test_a_private_rsa_pem_loads_and_signs(fmt, rsa_private):
    key = Key.from_pem(_pem(rsa_private, fmt), alg="RS256", kid="r1")
    assert key.is_private
    assert (key.alg, key.kid, key.kty) == ("RS256", "r1", "RSA")
    tok = jwtkit.encode(CLAIMS, key)
    assert jwtkit.decode(tok, key.public_key(), algorithms=["RS256"], now=NOW) == CLAIMS


@pytest.mark.parametrize("fmt", ["spki", "pkcs1"])
def test_a_public_rsa_pem_loads_and_verifies_but_cannot_sign(fmt, rsa_private):
    private = Key.from_cryptography(rsa_private, alg="RS256")
    public = Key.from_pem(_pem(rsa_private, fmt).decode(), alg="RS256")
    assert not public.is_private
    tok = jwtkit.encode(CLAIMS, private)
    assert jwtkit.decode(tok, public, algorithms=["RS256"], now=NOW) == CLAIMS
    with pytest.raises(ValueError, match="public key"):
        jwtkit.encode(CLAIMS, public)


@pytest.mark.parametrize("fmt", ["pkcs8", "traditional", "spki"])
def test_an_ec_pem_is_bound_to_its_curve(fmt):
    private = ec.generate_private_key(ec.SECP384R1())
    key = Key.from_pem(_pem(private, fmt))
    assert (key.kty, key.crv, key.algorithms) == ("EC", "P-384", {"ES384"})


def test_an_ed25519_pem_loads():
    private = ed25519.Ed25519PrivateKey.generate()
    key = Key.from_pem(_pem(private, "pkcs8"))
    assert (key.kty, key.crv, key.signing_algorithm) == ("OKP", "Ed25519", "EdDSA")


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_a_certificate_pem_gives_its_public_key(kind, rsa_private, self_signed_certificate):
    private = rsa_private if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())
    key = Key.from_pem(self_signed_certificate(private).public_bytes(serialization.Encoding.PEM))
    assert not key.is_private
    assert key.thumbprint() == Key.from_cryptography(private).thumbprint()


def test_an_encrypted_pem_loads_with_its_password(rsa_private):
    pem = rsa_private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"),
    )
    assert b"ENCRYPTED" in pem
    key = Key.from_pem(pem, alg="PS256", password=b"open sesame")
    assert key.is_private
    assert key.thumbprint() == Key.from_cryptography(rsa_private).thumbprint()


@pytest.mark.parametrize("password", [None, b"wrong"])
def test_an_encrypted_pem_without_the_right_password_is_refused(password, rsa_private):
    pem = rsa_private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"open sesame"),
    )
    with pytest.raises(InvalidKeyError) as info:
        Key.from_pem(pem, password=password)
    assert "open sesame" not in str(info.value)


def test_to_pem_with_a_password_round_trips(private_key):
    pem = private_key.to_pem(private=True, password=b"pw")
    assert b"ENCRYPTED" in pem
    assert Key.from_pem(pem, password=b"pw").thumbprint() == private_key.thumbprint()


@pytest.mark.parametrize(
    "pem",
    [b"", b"not a pem", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "-----BEGIN PRIVATE KEY-----"],
)
def test_a_pem_that_is_not_a_key_is_refused(pem):
    with pytest.raises(InvalidKeyError):
        Key.from_pem(pem)


def test_a_pem_of_an_unsupported_curve_is_refused():
    private = ec.generate_private_key(ec.SECP224R1())
    with pytest.raises(InvalidKeyError, match="curve"):
        Key.from_pem(_pem(private, "pkcs8"))


# ---------------------------------------------------------------------------------------------
# KeySet (RFC 7517 §5)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def es_keys() -> tuple[Key, Key]:
    return Key.generate("ES256", kid="a"), Key.generate("ES256", kid="b")


def test_a_key_set_finds_a_key_by_kid(es_keys):
    a, b = es_keys
    keys = KeySet([a.public_key(), b.public_key()])
    assert keys.get("b") == b.public_key()
    assert keys.get("zzz") is None
    assert "a" in keys
    assert len(keys) == 2
    assert keys.find("a", "ES256") == a.public_key()


def test_a_token_is_verified_with_the_key_its_kid_names(es_keys):
    a, b = es_keys
    keys = KeySet([a.public_key(), b.public_key()])
    assert jwtkit.decode(jwtkit.encode(CLAIMS, b), keys, algorithms=["ES256"], now=NOW) == CLAIMS


def test_a_token_whose_kid_names_another_key_fails_its_signature(es_keys):
    a, b = es_keys
    keys = KeySet([a.public_key(), b.public_key()])
    tok = jwtkit.encode(CLAIMS, a, headers={"kid": "b"})
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(tok, keys, algorithms=["ES256"], now=NOW)


def test_an_unknown_kid_is_key_not_found(es_keys):
    a, _ = es_keys
    keys = KeySet([a.public_key()])
    with pytest.raises(KeyNotFoundError) as info:
        keys.find("nope", "ES256")
    assert info.value.claim == "kid"
    tok = jwtkit.encode(CLAIMS, a, headers={"kid": "nope"})
    with pytest.raises(KeyNotFoundError):
        jwtkit.decode(tok, keys, algorithms=["ES256"], now=NOW)


def test_a_kid_whose_key_does_not_fit_the_alg_is_key_not_found(es_keys):
    a, _ = es_keys
    with pytest.raises(KeyNotFoundError):
        KeySet([a.public_key()]).find("a", "ES384")


def test_two_keys_sharing_the_tokens_kid_are_refused_with_a_message_naming_the_kid():
    a, b = Key.generate("ES256", kid="same"), Key.generate("ES256", kid="same")
    with pytest.raises(KeyNotFoundError) as info:
        KeySet([a.public_key(), b.public_key()]).find("same", "ES256")
    assert "same" in str(info.value)
    assert "no kid" not in str(info.value)


def test_a_token_without_kid_uses_the_one_key_that_fits_its_alg(es_keys):
    a, _ = es_keys
    hs = Key.generate("HS256", kid="h")
    keys = KeySet([a.public_key(), hs])
    tok = jwtkit.encode(CLAIMS, a, headers={"kid": None})
    assert "kid" not in jwtkit.decode_unverified(tok)[0]
    assert keys.find(None, "ES256") == a.public_key()
    assert jwtkit.decode(tok, keys, algorithms=["ES256", "HS256"], now=NOW) == CLAIMS


def test_a_token_without_kid_is_refused_when_two_keys_fit_its_alg(es_keys):
    """Trying every key would make each token cost N verifications and blur which key was used."""
    a, b = es_keys
    keys = KeySet([a.public_key(), b.public_key()])
    with pytest.raises(KeyNotFoundError, match="2 keys"):
        keys.find(None, "ES256")
    tok = jwtkit.encode(CLAIMS, a, headers={"kid": None})
    with pytest.raises(KeyNotFoundError):
        jwtkit.decode(tok, keys, algorithms=["ES256"], now=NOW)


def test_from_jwks_skips_keys_not_meant_for_signatures(es_keys):
    """RFC 7517 §5: keys a recipient does not understand or cannot use may be ignored."""
    a, _ = es_keys
    x = (
        x25519.X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    enc_rsa = {**Key.generate("RS256").public_key().to_jwk(), "use": "enc", "kid": "enc-1"}
    oaep = {**Key.generate("RS256").public_key().to_jwk(), "alg": "RSA-OAEP", "kid": "enc-2"}
    jwks = {
        "keys": [
            enc_rsa,
            oaep,
            {"kty": "OKP", "crv": "X25519", "x": forge.b64url(x), "kid": "enc-3"},
            a.public_key().to_jwk(),
        ]
    }
    keys = KeySet.from_jwks(json.dumps(jwks))
    assert len(keys) == 1
    assert keys.get("a") == a.public_key()
    assert keys.get("enc-1") is None


def test_from_jwks_with_only_encryption_keys_is_refused():
    enc = {**Key.generate("RS256").public_key().to_jwk(), "use": "enc"}
    with pytest.raises(InvalidKeyError):
        KeySet.from_jwks({"keys": [enc]})


@pytest.mark.parametrize("doc", [{}, {"keys": {}}, {"keys": ["x"]}, "[]", "nope"])
def test_a_document_that_is_not_a_jwks_is_refused(doc):
    with pytest.raises(InvalidKeyError):
        KeySet.from_jwks(doc)


def test_from_jwks_refuses_a_malformed_signature_key(es_keys):
    a, _ = es_keys
    bad = {**a.public_key().to_jwk(), "x": "AAAA"}
    with pytest.raises(InvalidKeyError):
        KeySet.from_jwks({"keys": [a.public_key().to_jwk(), bad]})


def test_to_jwks_publishes_only_public_members(es_keys):
    a, b = es_keys
    jwks = KeySet([a, b]).to_jwks()
    assert [k["kid"] for k in jwks["keys"]] == ["a", "b"]
    for jwk in jwks["keys"]:
        assert not PRIVATE_MEMBERS & set(jwk)
    assert KeySet.from_jwks(jwks).get("a") == a.public_key()


@pytest.mark.parametrize(
    "text",
    [
        '{"kty":"oct","kty":"RSA","k":"' + "A" * 43 + '"}',
        '{"kty":"EC","crv":"P-256","x":NaN,"y":"AA"}',
        b'{"kty":"oct","k":"\xff"}',
    ],
    ids=["duplicate-member", "nan-literal", "not-utf8"],
)
def test_jwk_text_is_parsed_as_strictly_as_a_token_header(text):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(text)


def test_jwks_text_with_duplicate_keys_members_is_refused():
    jwk = json.dumps(Key.generate("ES256").public_key().to_jwk())
    with pytest.raises(InvalidKeyError):
        KeySet.from_jwks('{"keys":[' + jwk + '],"keys":[]}')


def _b64_int(value: int) -> str:
    return forge.b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def test_an_rsa_modulus_over_16384_bits_is_refused_before_any_arithmetic():
    n = (1 << 16400) | 1
    with pytest.raises(InvalidKeyError, match="16384"):
        Key.from_jwk({"kty": "RSA", "n": _b64_int(n), "e": "AQAB"})


def test_a_large_private_rsa_jwk_without_crt_members_is_refused_instead_of_factoring_for_seconds():
    n, d = (1 << 8191) | 1, (1 << 8000) | 1
    with pytest.raises(InvalidKeyError, match="p, q, dp, dq and qi"):
        Key.from_jwk({"kty": "RSA", "n": _b64_int(n), "e": "AQAB", "d": _b64_int(d)})
