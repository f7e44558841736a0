"""Every algorithm signs and verifies its own tokens, and nothing else."""

import base64

import pytest

import jwtkit
from jwtkit import InvalidSignatureError, Key
from support.constants import NOW

ALGORITHMS = list(jwtkit.SUPPORTED_ALGORITHMS)


@pytest.fixture(scope="module", params=ALGORITHMS)
def key(request):
    return Key.generate(request.param, kid=f"kid-{request.param}")


def test_a_token_verifies_with_the_key_that_signed_it(key, verifying_key):
    claims = {"token_type": "access", "exp": NOW + 300, "jti": "1foo2jwt3id4", "user_id": 123}
    token = jwtkit.encode(claims, key)
    assert jwtkit.decode(token, verifying_key(key), algorithms=[key.alg], now=NOW) == claims


def test_the_header_names_alg_typ_and_kid(key):
    header, _ = jwtkit.decode_unverified(jwtkit.encode({}, key))
    assert header == {"alg": key.alg, "typ": "JWT", "kid": key.kid}


def test_changing_a_claim_in_the_payload_breaks_the_signature(key, verifying_key):
    header, payload, signature = jwtkit.encode({"user_id": 123}, key).split(".")
    forged = base64.urlsafe_b64encode(b'{"user_id":124}').rstrip(b"=").decode()
    assert forged != payload
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(f"{header}.{forged}.{signature}", verifying_key(key), algorithms=[key.alg])


def test_a_token_does_not_verify_with_another_key_of_the_same_algorithm(key, verifying_key):
    token = jwtkit.encode({"user_id": 123}, key)
    other = Key.generate(key.alg)
    with pytest.raises(InvalidSignatureError):
        jwtkit.decode(token, verifying_key(other), algorithms=[key.alg])
