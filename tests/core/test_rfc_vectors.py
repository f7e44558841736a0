"""The published RFC examples, read from ``tests/vectors/*.json`` (each entry names its RFC section).

- Every example token verifies with jwtkit, and its header and payload decode to what the RFC shows.
- Deterministic algorithms (HMAC, RSASSA-PKCS1-v1_5, Ed25519) reproduce the RFC's signature bytes
  exactly; the RFC 7515 headers and payloads contain CRLF and leading spaces, so we sign the exact
  JWS Signing Input, never re-serialized JSON.
- Non-deterministic ones (ECDSA, RSASSA-PSS) verify, and our own signature over the same input verifies.
- Thumbprints match RFC 7638 §3.1 and RFC 8037 Appendix A.3; tampered copies fail; the unsecured
  ``alg: none`` example of RFC 7515 Appendix A.5 is rejected.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import jwtkit
from jwtkit import (
    AlgorithmNotAllowedError,
    ExpiredTokenError,
    InvalidKeyError,
    InvalidSignatureError,
    Key,
    KeySet,
)

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return doc


RFC7515 = load("rfc7515_appendix_a.json")
RFC7520 = load("rfc7520_jws.json")
RFC8037 = load("rfc8037_ed25519.json")
RFC7638 = load("rfc7638_thumbprint.json")

#: RFC 7515 A.1-A.3 carry exp 1300819380 (2011-03-22T18:43:00Z): verify them just before it.
BEFORE_EXPIRY = 1_300_819_379


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Example:
    """One signed RFC example: its token, private (signing) key and public (verifying) key."""

    def __init__(self, vector: dict[str, Any], private_jwk: dict[str, Any], public_jwk: dict[str, Any]) -> None:
        self.id: str = vector["id"]
        self.alg: str = vector["alg"]
        self.deterministic: bool = vector["deterministic"]
        self.token: str = vector["token"]
        self.claims: dict[str, Any] | None = vector.get("claims")
        self.private_key = Key.from_jwk(private_jwk, alg=self.alg)
        self.public_key = Key.from_jwk(public_jwk, alg=self.alg)
        header, payload, signature = self.token.split(".")
        self.signing_input = f"{header}.{payload}".encode("ascii")
        self.signature = b64decode(signature)
        self.header = json.loads(b64decode(header))
        self.payload = b64decode(payload)

    def __repr__(self) -> str:
        return self.id


def rfc7515_examples() -> list[Example]:
    examples = []
    for vector in RFC7515["vectors"]:
        if vector["expect"] != "valid":
            continue
        public = {name: value for name, value in vector["key"].items() if name not in ("d", "p", "q", "dp", "dq", "qi")}
        examples.append(Example(vector, vector["key"], public if vector["key"]["kty"] != "oct" else vector["key"]))
    return examples


def rfc7520_examples() -> list[Example]:
    keys = {entry["id"]: entry["jwk"] for entry in RFC7520["keys"]}
    return [Example(v, keys[v["key"]], keys[v["public_key"]]) for v in RFC7520["vectors"]]


def rfc8037_examples() -> list[Example]:
    return [Example(v, RFC8037["private_key"]["jwk"], RFC8037["public_key"]["jwk"]) for v in RFC8037["vectors"]]


EXAMPLES = rfc7515_examples() + rfc7520_examples() + rfc8037_examples()
DETERMINISTIC = [e for e in EXAMPLES if e.deterministic]
RANDOMIZED = [e for e in EXAMPLES if not e.deterministic]
JWT_EXAMPLES = [e for e in EXAMPLES if e.claims is not None]


def ids(examples: list[Example]) -> list[str]:
    return [e.id for e in examples]


def test_the_vector_files_cover_every_example_the_brief_names():
    assert ids(EXAMPLES) == [
        "rfc7515-A.1",
        "rfc7515-A.2",
        "rfc7515-A.3",
        "rfc7515-A.4",
        "rfc7520-4.1",
        "rfc7520-4.2",
        "rfc7520-4.3",
        "rfc7520-4.4",
        "rfc8037-A.4",
    ]
    assert {e.id: e.alg for e in RANDOMIZED} == {
        "rfc7515-A.3": "ES256",
        "rfc7515-A.4": "ES512",
        "rfc7520-4.2": "PS384",
        "rfc7520-4.3": "ES512",
    }


# ---------------------------------------------------------------- the data is what the RFCs show


@pytest.mark.parametrize("vector", RFC7515["vectors"], ids=lambda v: v["id"])
def test_rfc7515_segments_decode_to_the_exact_octets_the_rfc_shows(vector):
    header, payload, _ = vector["token"].split(".")
    assert b64decode(header).decode("utf-8") == vector["header_json"]
    expected = vector["payload_json"] if vector["payload_json"] is not None else vector["payload_text"]
    assert b64decode(payload).decode("utf-8") == expected


@pytest.mark.parametrize("vector", RFC7520["vectors"], ids=lambda v: v["id"])
def test_rfc7520_segments_decode_to_the_figures_header_and_payload(vector):
    header, payload, _ = vector["token"].split(".")
    assert json.loads(b64decode(header)) == vector["header"]
    assert payload == RFC7520["payload_b64"]
    assert b64decode(payload).decode("utf-8") == RFC7520["payload_text"]


# ---------------------------------------------------------------- verification


@pytest.mark.parametrize("example", EXAMPLES, ids=ids(EXAMPLES))
def test_the_rfc_token_verifies_with_the_public_key(example):
    header, payload = jwtkit.jws.verify(example.token, example.public_key, algorithms=[example.alg])
    assert header == example.header
    assert payload == example.payload


@pytest.mark.parametrize("example", JWT_EXAMPLES, ids=ids(JWT_EXAMPLES))
def test_the_rfc_claim_set_decodes_before_its_expiry(example):
    claims = jwtkit.decode(example.token, example.public_key, algorithms=[example.alg], now=BEFORE_EXPIRY)
    assert claims == example.claims


@pytest.mark.parametrize("example", JWT_EXAMPLES, ids=ids(JWT_EXAMPLES))
def test_the_rfc_claim_set_is_expired_today(example):
    with pytest.raises(ExpiredTokenError):
        jwtkit.decode(example.token, example.public_key, algorithms=[example.alg])


def test_rfc7520_tokens_find_their_key_in_a_key_set_by_kid():
    usable = [Key.from_jwk(entry["jwk"]) for entry in RFC7520["keys"] if entry["expect"] == "usable"]
    keys = KeySet(key for key in usable if not key.is_private or key.kty == "oct")
    for example in rfc7520_examples():
        header, payload = jwtkit.jws.verify(example.token, keys, algorithms=[example.alg])
        assert header["kid"] == example.header["kid"]
        assert payload.decode("utf-8") == RFC7520["payload_text"]


# ---------------------------------------------------------------- signing


@pytest.mark.parametrize("example", DETERMINISTIC, ids=ids(DETERMINISTIC))
def test_a_deterministic_algorithm_reproduces_the_rfc_signature_bytes(example):
    assert jwtkit.jws.raw_signature(example.signing_input, example.private_key) == example.signature


@pytest.mark.parametrize("example", RANDOMIZED, ids=ids(RANDOMIZED))
def test_our_randomized_signature_over_the_rfc_signing_input_verifies(example):
    signature = jwtkit.jws.raw_signature(example.signing_input, example.private_key)
    assert len(signature) == len(example.signature)
    token = f"{example.signing_input.decode('ascii')}.{b64encode(signature)}"
    _, payload = jwtkit.jws.verify(token, example.public_key, algorithms=[example.alg])
    assert payload == example.payload


# ---------------------------------------------------------------- tampering


def flip_last_signature_byte(example: Example) -> str:
    signature = example.signature[:-1] + bytes([example.signature[-1] ^ 0x01])
    return f"{example.signing_input.decode('ascii')}.{b64encode(signature)}"


def change_the_payload(example: Example) -> str:
    header, _, signature = example.token.split(".")
    return f"{header}.{b64encode(example.payload + b' ')}.{signature}"


def add_a_header_member(example: Example) -> str:
    _, payload, signature = example.token.split(".")
    header = b64encode(json.dumps({**example.header, "x-tampered": True}).encode("utf-8"))
    return f"{header}.{payload}.{signature}"


TAMPERINGS = [flip_last_signature_byte, change_the_payload, add_a_header_member]


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("example", EXAMPLES, ids=ids(EXAMPLES))
def test_a_tampered_copy_of_the_rfc_token_fails(example, tamper):
    forged = tamper(example)
    assert forged != example.token
    with pytest.raises(InvalidSignatureError):
        jwtkit.jws.verify(forged, example.public_key, algorithms=[example.alg])


def test_an_rfc_token_fails_with_another_rfc_key_of_the_same_algorithm():
    rs256_7515 = next(e for e in EXAMPLES if e.id == "rfc7515-A.2")
    rs256_7520 = next(e for e in EXAMPLES if e.id == "rfc7520-4.1")
    with pytest.raises(InvalidSignatureError):
        jwtkit.jws.verify(rs256_7515.token, rs256_7520.public_key, algorithms=["RS256"])


# ---------------------------------------------------------------- the unsecured example (A.5)

UNSECURED = next(v for v in RFC7515["vectors"] if v["id"] == "rfc7515-A.5")


def test_the_unsecured_example_is_marked_for_rejection():
    assert UNSECURED["alg"] == "none"
    assert UNSECURED["expect"] == "reject"
    assert UNSECURED["token"].endswith(".")


@pytest.mark.parametrize("example", rfc7515_examples(), ids=ids(rfc7515_examples()))
def test_the_unsecured_example_is_rejected_whatever_key_is_offered(example):
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.jws.verify(UNSECURED["token"], example.public_key, algorithms=[example.alg])


def test_the_unsecured_example_is_rejected_by_decode_before_its_expiry():
    key = Key.from_jwk(RFC7515["vectors"][0]["key"])
    with pytest.raises(AlgorithmNotAllowedError):
        jwtkit.decode(UNSECURED["token"], key, algorithms=["HS256"], now=BEFORE_EXPIRY)


def test_none_can_never_be_an_allowed_algorithm():
    key = Key.from_jwk(RFC7515["vectors"][0]["key"])
    with pytest.raises(ValueError, match="none"):
        jwtkit.jws.verify(UNSECURED["token"], key, algorithms=["none"])


# ---------------------------------------------------------------- RFC 7520 §3 keys


@pytest.mark.parametrize("entry", [k for k in RFC7520["keys"] if k["expect"] == "usable"], ids=lambda k: k["id"])
def test_rfc7520_signature_keys_load_with_their_kid(entry):
    key = Key.from_jwk(entry["jwk"])
    assert key.kid == entry["jwk"]["kid"]
    assert key.kty == entry["jwk"]["kty"]
    assert key.is_private == ("d" in entry["jwk"] or entry["jwk"]["kty"] == "oct")


@pytest.mark.parametrize("entry", [k for k in RFC7520["keys"] if k["expect"] == "refused"], ids=lambda k: k["id"])
def test_rfc7520_encryption_keys_are_refused_for_signatures(entry):
    with pytest.raises(InvalidKeyError):
        Key.from_jwk(entry["jwk"])


@pytest.mark.parametrize(("public_id", "private_id"), [("rfc7520-3.1", "rfc7520-3.2"), ("rfc7520-3.3", "rfc7520-3.4")])
def test_rfc7520_private_keys_carry_the_public_keys_beside_them(public_id, private_id):
    keys = {entry["id"]: Key.from_jwk(entry["jwk"]) for entry in RFC7520["keys"] if entry["expect"] == "usable"}
    assert keys[private_id].public_key() == keys[public_id]
    assert keys[private_id].thumbprint() == keys[public_id].thumbprint()


def test_an_rfc7520_jwks_skips_the_encryption_key():
    keys = KeySet.from_jwks({"keys": [entry["jwk"] for entry in RFC7520["keys"]]})
    assert "1e571774-2e08-40da-8308-e8d68773842d" not in keys
    assert len(keys) == 5


# ---------------------------------------------------------------- thumbprints


def test_rfc7638_thumbprint_of_the_rsa_example():
    vector = RFC7638["vectors"][0]
    assert Key.from_jwk(vector["jwk"]).thumbprint() == vector["thumbprint"]


def test_rfc8037_thumbprint_of_the_ed25519_key():
    thumbprint = RFC8037["thumbprint"]
    digest = hashlib.sha256(thumbprint["canonical_json"].encode("utf-8")).digest()
    assert digest.hex() == thumbprint["sha256_hex"]
    assert b64encode(digest) == thumbprint["value"]
    assert Key.from_jwk(RFC8037["public_key"]["jwk"]).thumbprint() == thumbprint["value"]
    assert Key.from_jwk(RFC8037["private_key"]["jwk"]).thumbprint() == thumbprint["value"]


def test_a_thumbprint_ignores_kid_and_alg():
    vector = RFC7638["vectors"][0]
    bare = {name: vector["jwk"][name] for name in ("kty", "n", "e")}
    assert Key.from_jwk(bare).thumbprint() == vector["thumbprint"]
