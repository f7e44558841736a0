"""Misuse of the API is a programming error, not a token error (STYLE §14).

Bad arguments raise ``TypeError``/``ValueError`` when the call or the ``Verifier`` is made,
before any token is looked at, and never a ``JWTError`` that a caller's
``except JWTError: return 401`` would swallow.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

import jwtkit
from jwtkit import JWTError, Key, KeySet, Verifier
from support.constants import NOW

HS = Key.from_secret(bytes(range(32)), alg="HS256")
TOKEN = jwtkit.encode({"sub": "a"}, HS)


@pytest.fixture(scope="module")
def es_key() -> Key:
    return Key.generate("ES256")


def raises_misuse(error: type[Exception], call, *args, **kwargs) -> Exception:
    """Assert ``call`` raises ``error`` (TypeError or ValueError) and that it is no JWTError."""
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    assert not isinstance(info.value, JWTError)
    return info.value


# ---------------------------------------------------------------------------------------------
# algorithms
# ---------------------------------------------------------------------------------------------
def test_algorithms_is_mandatory():
    raises_misuse(TypeError, jwtkit.decode, TOKEN, HS)
    raises_misuse(TypeError, Verifier, HS)
    raises_misuse(TypeError, jwtkit.jws.verify, TOKEN, HS)


@pytest.mark.parametrize("algorithms", [[], (), set(), frozenset()])
def test_empty_algorithms_are_refused(algorithms):
    raises_misuse(ValueError, Verifier, HS, algorithms=algorithms)


@pytest.mark.parametrize("algorithms", ["HS256", b"HS256"])
def test_algorithms_as_a_plain_string_is_refused(algorithms):
    """``"HS256"`` would otherwise be iterated as {"H", "S", "2", "5", "6"}: refuse it, naming the fix."""
    error = raises_misuse(TypeError, Verifier, HS, algorithms=algorithms)
    assert "list" in str(error)


def test_algorithms_none_is_refused():
    raises_misuse(TypeError, Verifier, HS, algorithms=None)


@pytest.mark.parametrize("none", ["none", "None", "NONE", "nOnE"])
def test_none_can_never_be_allowed(none):
    """RFC 8725 §3.1: ``none`` cannot be allowed even alongside a real algorithm."""
    raises_misuse(ValueError, Verifier, HS, algorithms=[none])
    raises_misuse(ValueError, Verifier, HS, algorithms=["HS256", none])
    raises_misuse(ValueError, jwtkit.decode, TOKEN, HS, algorithms=["HS256", none])


@pytest.mark.parametrize("alg", ["HS257", "hs256", "RS1", "ES256X", "", "RSA-OAEP", "A128GCM"])
def test_an_unknown_algorithm_is_refused(alg):
    error = raises_misuse(ValueError, Verifier, HS, algorithms=["HS256", alg])
    assert "HS256" in str(error)  # the message lists what is supported


@pytest.mark.parametrize("alg", [256, None, b"HS256"])
def test_an_algorithm_that_is_not_a_string_is_refused(alg):
    with pytest.raises((TypeError, ValueError)) as info:
        Verifier(HS, algorithms=["HS256", alg])
    assert not isinstance(info.value, JWTError)


@pytest.mark.parametrize(
    ("alg", "allowed"),
    [("HS256", ["RS256"]), ("HS256", ["HS384"]), ("ES256", ["ES384", "ES512"]), ("ES256", ["HS256"])],
)
def test_a_key_that_fits_none_of_the_algorithms_is_refused(alg, allowed, es_key):
    """A Verifier that could never accept a token is a configuration error, reported when built."""
    key = HS if alg == "HS256" else es_key.public_key()
    error = raises_misuse(ValueError, Verifier, key, algorithms=allowed)
    assert "fits none" in str(error)
    raises_misuse(ValueError, jwtkit.decode, TOKEN, key, algorithms=allowed)
    raises_misuse(ValueError, jwtkit.jws.verify, TOKEN, key, algorithms=allowed)


def test_a_key_that_fits_one_of_the_algorithms_is_accepted(es_key):
    assert Verifier(es_key.public_key(), algorithms=["HS256", "ES256"])


# ---------------------------------------------------------------------------------------------
# The key argument: a Key or KeySet, never raw material
# ---------------------------------------------------------------------------------------------
RAW_MATERIAL = {
    "bytes": bytes(range(32)),
    "str": "a-shared-secret-of-at-least-32-characters",
    "pem": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
    "jwk-dict": {"kty": "oct", "k": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    "none": None,
    "list-of-keys": [HS],
}


@pytest.mark.parametrize("material", sorted(RAW_MATERIAL))
def test_raw_key_material_is_refused_for_verification(material):
    """The confusion attacks start with "whatever bytes were passed": only a Key or KeySet is taken."""
    error = raises_misuse(TypeError, Verifier, RAW_MATERIAL[material], algorithms=["HS256"])
    assert "Key" in str(error)
    raises_misuse(TypeError, jwtkit.decode, TOKEN, RAW_MATERIAL[material], algorithms=["HS256"])
    raises_misuse(TypeError, jwtkit.jws.verify, TOKEN, RAW_MATERIAL[material], algorithms=["HS256"])


@pytest.mark.parametrize("material", ["bytes", "str", "pem", "jwk-dict", "none"])
def test_raw_key_material_is_refused_for_signing(material):
    error = raises_misuse(TypeError, jwtkit.encode, {"sub": "a"}, RAW_MATERIAL[material])
    assert "Key" in str(error)


def test_a_key_set_holds_only_keys():
    raises_misuse(TypeError, KeySet, [HS, b"secret"])
    raises_misuse(TypeError, KeySet, [{"kty": "oct"}])


def test_a_key_is_not_made_with_its_constructor():
    raises_misuse(TypeError, Key)


# ---------------------------------------------------------------------------------------------
# Claim options
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("leeway", [-1, -0.5, timedelta(seconds=-1)])
def test_a_negative_leeway_is_refused(leeway):
    raises_misuse(ValueError, Verifier, HS, algorithms=["HS256"], leeway=leeway)
    raises_misuse(ValueError, jwtkit.decode, TOKEN, HS, algorithms=["HS256"], leeway=leeway)


@pytest.mark.parametrize("leeway", ["30", None, True, float("nan"), float("inf"), [30]])
def test_a_leeway_that_is_not_a_finite_number_is_refused(leeway):
    raises_misuse(TypeError, Verifier, HS, algorithms=["HS256"], leeway=leeway)


def test_required_as_a_plain_string_is_refused():
    raises_misuse(TypeError, Verifier, HS, algorithms=["HS256"], required="exp")


@pytest.mark.parametrize("required", [[""], [None], [1]])
def test_required_claim_names_must_be_non_empty_strings(required):
    raises_misuse(TypeError, Verifier, HS, algorithms=["HS256"], required=required)


@pytest.mark.parametrize("option", ["audience", "issuer"])
@pytest.mark.parametrize("value", [[], [""], ["ok", 1], [None]])
def test_an_empty_or_non_string_audience_or_issuer_list_is_refused(option, value):
    raises_misuse(ValueError, Verifier, HS, algorithms=["HS256"], **{option: value})


@pytest.mark.parametrize("option", ["audience", "issuer"])
def test_an_empty_audience_or_issuer_string_is_refused(option):
    """``issuer=os.environ.get("ISSUER", "")`` is a configuration mistake, not an issuer."""
    raises_misuse(ValueError, Verifier, HS, algorithms=["HS256"], **{option: ""})


@pytest.mark.parametrize("typ", [1, b"JWT", ["JWT"]])
def test_typ_must_be_a_string(typ):
    raises_misuse(TypeError, Verifier, HS, algorithms=["HS256"], typ=typ)


@pytest.mark.parametrize("size", [0, 10, -1, "16384", None])
def test_max_token_size_must_be_a_sensible_integer(size):
    with pytest.raises((TypeError, ValueError)) as info:
        Verifier(HS, algorithms=["HS256"], max_token_size=size)
    assert not isinstance(info.value, JWTError)


# ---------------------------------------------------------------------------------------------
# encode and jws.sign
# ---------------------------------------------------------------------------------------------
def test_encode_with_a_public_key_is_refused(es_key):
    error = raises_misuse(ValueError, jwtkit.encode, {"sub": "a"}, es_key.public_key())
    assert "public key" in str(error)
    raises_misuse(ValueError, jwtkit.jws.sign, b"payload", es_key.public_key())


def test_encode_with_an_rsa_key_without_alg_is_refused():
    """Several algorithms fit such a key; which one to sign with must be the caller's choice."""
    family_key = Key.from_pem(Key.generate("RS256").to_pem(private=True))
    raises_misuse(ValueError, jwtkit.encode, {"sub": "a"}, family_key)


@pytest.mark.parametrize("claims", [[("sub", "a")], "sub=a", None, b"{}"])
def test_encode_claims_must_be_a_mapping(claims):
    raises_misuse(TypeError, jwtkit.encode, claims, HS)


@pytest.mark.parametrize("value", ["tomorrow", "1800000000", True, [NOW]])
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_encode_refuses_a_time_claim_that_is_not_a_number_or_datetime(claim, value):
    raises_misuse(TypeError, jwtkit.encode, {claim: value}, HS)


def test_encode_refuses_values_json_cannot_hold():
    raises_misuse(TypeError, jwtkit.encode, {"data": b"bytes"}, HS)
    raises_misuse(TypeError, jwtkit.encode, {"data": {1, 2}}, HS)
    raises_misuse(ValueError, jwtkit.encode, {"score": float("nan")}, HS)


@pytest.mark.parametrize("alg", ["none", "HS512", "RS256"])
def test_encode_headers_cannot_change_the_keys_alg(alg):
    error = raises_misuse(ValueError, jwtkit.encode, {"sub": "a"}, HS, headers={"alg": alg})
    assert "HS256" in str(error)


@pytest.mark.parametrize("name", ["crit", "b64", "enc", "zip"])
def test_encode_refuses_headers_jwtkit_does_not_implement(name):
    raises_misuse(ValueError, jwtkit.encode, {"sub": "a"}, HS, headers={name: ["x"]})
    raises_misuse(ValueError, jwtkit.jws.sign, b"payload", HS, headers={name: ["x"]})


def test_encode_accepts_the_keys_own_alg_in_headers():
    assert jwtkit.decode_unverified(jwtkit.encode({}, HS, headers={"alg": "HS256"}))[0]["alg"] == "HS256"


@pytest.mark.parametrize("payload", ["text", None, {"sub": "a"}])
def test_jws_sign_takes_bytes(payload):
    raises_misuse(TypeError, jwtkit.jws.sign, payload, HS)


# ---------------------------------------------------------------------------------------------
# Key constructors
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA", "none", "HS257"])
def test_from_secret_makes_only_hmac_keys(alg):
    raises_misuse(ValueError, Key.from_secret, bytes(64), alg=alg)


@pytest.mark.parametrize("secret", [123, None, ["x"]])
def test_from_secret_takes_bytes_or_text(secret):
    raises_misuse(TypeError, Key.from_secret, secret)


@pytest.mark.parametrize("make", ["generate", "from_secret", "from_pem"])
def test_a_kid_argument_that_is_not_a_string_is_a_type_error(make):
    calls = {
        "generate": lambda: Key.generate("ES256", kid=5),
        "from_secret": lambda: Key.from_secret(bytes(range(32)), kid=b"k1"),
        "from_pem": lambda: Key.from_pem(Key.generate("ES256").to_pem(private=True), kid=7),
    }
    raises_misuse(TypeError, calls[make])


@pytest.mark.parametrize("alg", ["none", "HS257", "", "RSA-OAEP"])
def test_generate_refuses_an_unknown_algorithm(alg):
    raises_misuse(ValueError, Key.generate, alg)


def test_from_jwk_refuses_an_unknown_alg_argument():
    raises_misuse(ValueError, Key.from_jwk, {"kty": "oct", "k": "A" * 43}, alg="HS257")


def test_from_jwk_takes_a_dict_or_json_text():
    raises_misuse(TypeError, Key.from_jwk, 42)


def test_misuse_is_reported_before_any_token_is_read():
    """A misconfigured decode fails the same way for a good token and for garbage."""
    for tok in (TOKEN, "garbage", ""):
        raises_misuse(ValueError, jwtkit.decode, tok, HS, algorithms=[])


def test_a_keyset_with_no_key_for_any_allowed_algorithm_is_refused_when_the_verifier_is_built():
    keys = KeySet([Key.generate("ES256", kid="a"), Key.generate("EdDSA", kid="b")])
    with pytest.raises(ValueError, match="no key of this KeySet"):
        Verifier(keys, algorithms=["RS256"])


@pytest.mark.parametrize("now", [float("nan"), float("inf"), True, "1800000000", 2.0**60])
def test_a_now_that_is_not_a_finite_timestamp_is_refused_rather_than_disabling_expiry(now):
    key = Key.generate("HS256")
    token = jwtkit.encode({"exp": 1}, key)
    with pytest.raises(ValueError, match="now must be"):
        jwtkit.decode(token, key, algorithms=["HS256"], now=now)
