"""A bounded fuzz run of the token and key targets in every test run (seconds).

The coverage-guided campaigns (``fuzz_decode.py``, atheris) run outside the suite; this keeps a
short randomised run inside it: hypothesis feeds each target of ``fuzz_targets`` mutated corpus
seeds and structured JSON (tokens re-signed around random claims, JWKs with random members), and
each may raise only ``jwtkit.JWTError``. ``JWTKIT_FUZZ_EXAMPLES`` scales it up.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from fuzz_targets import TARGETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = int(os.environ.get("JWTKIT_FUZZ_EXAMPLES", "150"))
SEEDS = {target: [p.read_bytes() for p in sorted((CORPUS / target).iterdir())] for target in TARGETS}
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few bytes replaced, inserted or deleted."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if op == "replace" and at < len(data):
            data[at] = byte
        elif op == "insert":
            data.insert(at, byte)
        elif at < len(data):
            del data[at]
    return bytes(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
_member = st.one_of(_json, st.binary(max_size=80).map(_b64), st.sampled_from(
    ["RSA", "EC", "OKP", "oct", "P-256", "P-384", "P-521", "secp256k1", "Ed25519", "X25519", "HS256", "ES256",
     "RS256", "EdDSA", "sig", "enc", "AQAB", ""]))
JWK_NAMES = ["kty", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k", "alg", "use", "key_ops", "kid",
             "oth", "x5c"]
_jwk = st.dictionaries(st.sampled_from(JWK_NAMES), _member, min_size=1, max_size=8)
_claims_names = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "typ", "crit", "alg", "kid", "b64"]
_object = st.dictionaries(st.sampled_from(_claims_names) | st.text(max_size=6), _json, max_size=6)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_mutated_seeds_raise_only_jwt_errors(target):
    @BOUNDED
    @given(data=mutated(SEEDS[target]))
    def run(data: bytes) -> None:
        TARGETS[target](data)

    run()


@BOUNDED
@given(header=_object, payload=_object)
def test_signed_tokens_around_random_json_raise_only_jwt_errors(header, payload):
    TARGETS["signed"](json.dumps(header).encode() + b"\n" + json.dumps(payload).encode())


@BOUNDED
@given(jwk=_jwk)
def test_random_jwks_raise_only_jwt_errors(jwk):
    TARGETS["jwk"](json.dumps(jwk).encode())
    TARGETS["jwks"](json.dumps({"keys": [jwk]}).encode())
