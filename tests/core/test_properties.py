"""Property tests (hypothesis): round trips, totality on hostile input, strict base64url.

- Any JSON-compatible claims survive encode → decode, for every supported algorithm.
- Random text, random bytes and single-character mutations of valid tokens make
  ``decode``, ``Verifier.verify``, ``decode_unverified`` and ``jwtkit.jws.verify`` raise
  only ``JWTError`` subclasses; a mutation that still verifies is the original token.
- base64url round-trips, and every input that decodes is the one canonical encoding.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jwtkit
from jwtkit import JWTError, Key, KeySet, Verifier
from jwtkit.core.b64 import Base64Error, b64url_decode, b64url_encode
from support.constants import NOW

settings.register_profile(
    "jwtkit-properties",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("jwtkit-properties")
# Every algorithm gets its own run of the round trip, so fewer examples each.
PER_ALGORITHM = settings(PROFILE, max_examples=25)

ALGORITHMS = list(jwtkit.SUPPORTED_ALGORITHMS)
REGISTERED = frozenset(("iss", "sub", "aud", "exp", "nbf", "iat", "jti"))
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@functools.cache
def signing_key(alg: str) -> Key:
    """One key per algorithm for the whole module."""
    return Key.generate(alg, kid=f"kid-{alg}")


def verifying_key(alg: str) -> Key:
    key = signing_key(alg)
    return key if key.kty == "oct" else key.public_key()


@functools.cache
def verifier(alg: str) -> Verifier:
    return Verifier(verifying_key(alg), algorithms=[alg])


@functools.cache
def keyset() -> KeySet:
    return KeySet([verifying_key(alg) for alg in ("HS256", "ES256", "EdDSA", "RS256")])


# -------------------------------------------------------------------------- strategies
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=16,
)
numeric_dates = st.integers(min_value=0, max_value=NOW) | st.floats(min_value=0, max_value=NOW)
registered_claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.text(),
        "sub": st.text(),
        "jti": st.text(),
        "exp": st.integers(min_value=NOW + 1, max_value=2**52) | st.floats(min_value=NOW + 1, max_value=2.0**52),
        "nbf": numeric_dates,
        "iat": numeric_dates,
    },
)
private_claims = st.dictionaries(st.text().filter(lambda name: name not in REGISTERED), json_values, max_size=6)
claims_sets = st.builds(lambda registered, private: {**private, **registered}, registered_claims, private_claims)

token_like_text = st.lists(st.text(alphabet=B64URL + "=+/ ", max_size=40), min_size=1, max_size=6).map(".".join)
json_segments = st.builds(
    lambda header, payload, signature: b".".join(
        base64.urlsafe_b64encode(part).rstrip(b"=") for part in (header, payload, signature)
    ),
    json_values.map(lambda v: json.dumps(v).encode()) | st.just(b'{"alg":"HS256"}'),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=80),
)
hostile_tokens = st.text() | st.binary() | token_like_text | json_segments | json_segments.map(bytes.decode)
mutation_chars = st.sampled_from(B64URL + ".=+/ \n\x00é")


def only_jwt_errors(call: Callable[[], Any]) -> Any:
    """Run ``call``; return its result or None if it raised a JWTError (anything else escapes)."""
    try:
        return call()
    except JWTError:
        return None


def entry_points(token: str | bytes, alg: str) -> dict[str, Callable[[], Any]]:
    return {
        "decode": lambda: jwtkit.decode(token, verifying_key(alg), algorithms=[alg], now=NOW),
        "Verifier.verify": lambda: verifier(alg).verify(token, now=NOW),
        "decode_unverified": lambda: jwtkit.decode_unverified(token),
        "jws.verify": lambda: jwtkit.jws.verify(token, keyset(), algorithms=["HS256", "ES256", "EdDSA", "RS256"]),
    }


# -------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("alg", ALGORITHMS)
@PER_ALGORITHM
@given(claims=claims_sets)
def test_claims_round_trip_through_encode_and_decode(alg, claims):
    token = jwtkit.encode(claims, signing_key(alg))
    decoded = jwtkit.decode(token, verifying_key(alg), algorithms=[alg], now=NOW)
    assert decoded == claims
    assert json.dumps(decoded, sort_keys=True) == json.dumps(claims, sort_keys=True)


@PROFILE
@given(claims=claims_sets, alg=st.sampled_from(ALGORITHMS))
def test_decode_unverified_reads_the_claims_encode_wrote(alg, claims):
    header, decoded = jwtkit.decode_unverified(jwtkit.encode(claims, signing_key(alg)))
    assert header["alg"] == alg
    assert decoded == claims


@PROFILE
@given(payload=st.binary(max_size=300), alg=st.sampled_from(ALGORITHMS))
def test_any_payload_bytes_round_trip_through_the_jws_layer(payload, alg):
    token = jwtkit.jws.sign(payload, signing_key(alg))
    assert jwtkit.jws.verify(token, verifying_key(alg), algorithms=[alg])[1] == payload


# -------------------------------------------------------------------------- hostile input
@PROFILE
@given(token=hostile_tokens, alg=st.sampled_from(["HS256", "ES256", "EdDSA"]))
@pytest.mark.parametrize("entry_point", ["decode", "Verifier.verify", "decode_unverified", "jws.verify"])
def test_random_input_raises_only_jwt_errors(entry_point, token, alg):
    result = only_jwt_errors(entry_points(token, alg)[entry_point])
    if entry_point != "decode_unverified":
        assert result is None, "a random token verified"


@st.composite
def mutated_tokens(draw: st.DrawFn) -> tuple[str, str, str]:
    """(alg, valid token, the token with one character replaced, inserted or deleted)."""
    alg = draw(st.sampled_from(ALGORITHMS))
    claims = draw(st.sampled_from([{}, {"sub": "42", "exp": NOW + 60}, {"user_id": 123, "scope": ["a", "b"]}]))
    token = jwtkit.encode(claims, signing_key(alg))
    kind = draw(st.sampled_from(["replace", "insert", "delete"]))
    if kind == "insert":
        at = draw(st.integers(min_value=0, max_value=len(token)))
        mutated = token[:at] + draw(mutation_chars) + token[at:]
    else:
        at = draw(st.integers(min_value=0, max_value=len(token) - 1))
        replacement = draw(mutation_chars.filter(lambda c: c != token[at])) if kind == "replace" else ""
        mutated = token[:at] + replacement + token[at + 1 :]
    return alg, token, mutated


@PROFILE
@given(case=mutated_tokens())
@pytest.mark.parametrize("entry_point", ["decode", "Verifier.verify", "decode_unverified", "jws.verify"])
def test_a_mutated_token_raises_only_jwt_errors(entry_point, case):
    alg, _, mutated = case
    only_jwt_errors(entry_points(mutated, alg)[entry_point])


@PROFILE
@given(case=mutated_tokens())
def test_no_single_character_mutation_of_a_token_verifies(case):
    alg, token, mutated = case
    assert mutated != token
    assert only_jwt_errors(entry_points(mutated, alg)["Verifier.verify"]) is None
    assert only_jwt_errors(entry_points(mutated, alg)["decode"]) is None


# -------------------------------------------------------------------------- base64url
@PROFILE
@given(data=st.binary(max_size=200))
def test_base64url_round_trips(data):
    assert b64url_decode(b64url_encode(data)) == data


@PROFILE
@given(data=st.binary(max_size=200))
def test_base64url_encoding_is_unpadded_urlsafe_base64(data):
    assert b64url_encode(data) == base64.urlsafe_b64encode(data).rstrip(b"=")


@PROFILE
@given(segment=st.binary(max_size=60) | st.text(alphabet=B64URL + "=+/ \n", max_size=60).map(str.encode))
def test_whatever_base64url_decodes_is_the_one_canonical_encoding(segment):
    try:
        data = b64url_decode(segment)
    except Base64Error:
        return
    assert b64url_encode(data) == segment


@PROFILE
@given(data=st.binary(min_size=1, max_size=100).filter(lambda d: len(d) % 3))
def test_padded_base64url_is_rejected(data):
    with pytest.raises(Base64Error):
        b64url_decode(base64.urlsafe_b64encode(data))


@PROFILE
@given(
    data=st.binary(min_size=1, max_size=100).filter(lambda d: len(d) % 3), bits=st.integers(min_value=1, max_value=15)
)
def test_nonzero_unused_bits_in_the_last_character_are_rejected(data, bits):
    encoded = b64url_encode(data)
    unused = 4 if len(data) % 3 == 1 else 2
    index = B64URL.index(chr(encoded[-1])) | (bits % (1 << unused) or 1)
    with pytest.raises(Base64Error):
        b64url_decode(encoded[:-1] + B64URL[index].encode())


@PROFILE
@given(data=st.binary(min_size=1, max_size=100), at=st.integers(min_value=0), junk=st.sampled_from(b"+/= \n\t."))
def test_characters_outside_the_base64url_alphabet_are_rejected(data, at, junk):
    encoded = b64url_encode(data)
    at %= len(encoded) + 1
    with pytest.raises(Base64Error):
        b64url_decode(encoded[:at] + bytes([junk]) + encoded[at:])
