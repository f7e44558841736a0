"""Project Wycheproof JOSE vectors (Apache-2.0), copied unedited into ``tests/vectors/wycheproof/``.

Every JWS test (401) and JWK test (26) runs through jwtkit: a ``valid`` verdict must verify, an
``invalid`` one must raise a :class:`jwtkit.JWTError` subclass and never another exception type.
The ``algorithms`` argument comes from the key's JWK ``alg`` (or, without one, from the key's
family), never from the token. Loading a key or key set may itself be the rejection.

Where jwtkit deliberately disagrees with a published verdict, the vector is listed in
``DIVERGENCES`` with its reason, and the test asserts jwtkit's opposite outcome; a divergence
that stops diverging fails the suite, so the list stays honest.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import jwtkit
from jwtkit import JWTError, Key, KeyNotFoundError, KeySet

WYCHEPROOF = Path(__file__).resolve().parent.parent / "vectors" / "wycheproof"
FILES = {"jws": "json_web_signature_test.json", "jwk": "json_web_key_test.json"}
SOURCE: dict[str, Any] = json.loads((WYCHEPROOF / "SOURCE.json").read_text(encoding="utf-8"))
DOCUMENTS: dict[str, dict[str, Any]] = {
    kind: json.loads((WYCHEPROOF / name).read_text(encoding="utf-8")) for kind, name in FILES.items()
}

_STRICT_BASE64 = (
    "a '?' inserted into the {segment} segment: not base64url. A lenient decoder that skips it lets one "
    "token be written many ways, which defeats denylists keyed by token text (LESSONS: PyJWT 2.12, "
    "golang-jwt#502); jwtkit decodes only canonical base64url (RFC 7515 §2)"
)
_KEY_ALG_BINDS = (
    "RFC 7520 §4.2 token (PS384) under a JWK whose 'alg' is PS256: jwtkit binds a key to its JWK 'alg' "
    "(RFC 7517 §4.4), so a PS384 token never fits it"
)
_UNKNOWN_JWK_ALG = (
    "the JWK says alg 'ES521', which is not a JWS algorithm (P-521 is 'ES512', RFC 7518 §3.1): jwtkit "
    "refuses a key bound to an unknown algorithm rather than guess what was meant"
)
_LOST_PADDING = (
    "the published token is byte-for-byte tcId 357 (valid): the padding the comment describes is not in "
    "the data, so the token is sound and verifies"
)

#: Vectors where jwtkit deliberately reaches the opposite verdict, keyed by (file, tcId).
#: A published ``valid`` listed here must be rejected with a JWTError; a published ``invalid``
#: listed here must verify.
DIVERGENCES: dict[tuple[str, int], str] = {
    ("jws", 346): _KEY_ALG_BINDS,
    ("jws", 347): _UNKNOWN_JWK_ALG,
    ("jws", 350): _KEY_ALG_BINDS + " (the key_ops variant)",
    ("jws", 351): _UNKNOWN_JWK_ALG + " (the key_ops variant)",
    ("jws", 367): _LOST_PADDING,
    ("jws", 370): _LOST_PADDING,
    ("jws", 372): _STRICT_BASE64.format(segment="header"),
    ("jws", 373): _STRICT_BASE64.format(segment="payload")
    + "; and the JWS Signing Input is the segment as sent (RFC 7515 §5.2), so the MAC no longer matches",
    ("jwk", 1): (
        "a set holding an HMAC secret and an EC public key (flagged Ambiguous): RFC 7517 §5 allows mixed "
        "sets, and every jwtkit key is bound to its type and algorithm, so a token is only ever checked by "
        "a key that fits its alg and no confusion is possible (see test_a_mixed_set_never_checks_hmac_with_the_ec_key)"
    ),
}

#: Vectors jwtkit gets wrong because of a gap in the core (xfail strict; reported to the lead).
CORE_GAPS: dict[tuple[str, int], str] = {}


@dataclass(frozen=True)
class Case:
    kind: str
    group: int
    tc_id: int
    result: str
    comment: str
    flags: tuple[str, ...]
    token: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.tc_id)

    @property
    def expect_valid(self) -> bool:
        return (self.result == "valid") != (self.key in DIVERGENCES)


def cases(kind: str) -> list[Case]:
    return [
        Case(kind, index, t["tcId"], t["result"], t["comment"], tuple(t["flags"]), t["jws"])
        for index, g in enumerate(DOCUMENTS[kind]["testGroups"])
        for t in g["tests"]
    ]


def params(kind: str) -> list[Any]:
    return [
        pytest.param(
            case,
            id=f"{case.tc_id}-{case.comment}",
            marks=[pytest.mark.xfail(strict=True, reason=CORE_GAPS[case.key])] if case.key in CORE_GAPS else [],
        )
        for case in cases(kind)
    ]


def group(case: Case) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENTS[case.kind]["testGroups"][case.group]
    return found


# ---------------------------------------------------------------- feeding keys to jwtkit


@functools.cache
def jws_key(group_index: int) -> tuple[Key, tuple[str, ...]]:
    """The group's verifying key (``public``, or the ``private`` oct key) and its algorithms."""
    g = DOCUMENTS["jws"]["testGroups"][group_index]
    key = Key.from_jwk(g.get("public") or g["private"])
    return key, (key.alg,) if key.alg else tuple(sorted(key.algorithms))


@functools.cache
def jwk_key_set(group_index: int) -> tuple[KeySet, tuple[str, ...]]:
    """The group's verifying key set and the algorithms its keys are bound to."""
    g = DOCUMENTS["jwk"]["testGroups"][group_index]
    keys = KeySet.from_jwks(g.get("public") or g["private"])
    algorithms = {name for key in keys for name in ((key.alg,) if key.alg else key.algorithms)}
    return keys, tuple(sorted(algorithms))


def verify_jws(case: Case) -> None:
    key, algorithms = jws_key(case.group)
    jwtkit.jws.verify(case.token, key, algorithms=algorithms)


def verify_jwk(case: Case) -> None:
    keys, algorithms = jwk_key_set(case.group)
    jwtkit.jws.verify(case.token, keys, algorithms=algorithms)


def check(case: Case, verify: Any) -> None:
    if case.expect_valid:
        verify(case)
    else:
        with pytest.raises(JWTError):
            verify(case)


# ---------------------------------------------------------------- the vectors


@pytest.mark.parametrize("case", params("jws"))
def test_a_wycheproof_jws_vector_gets_its_verdict(case):
    check(case, verify_jws)


@pytest.mark.parametrize("case", params("jwk"))
def test_a_wycheproof_key_set_vector_gets_its_verdict(case):
    check(case, verify_jwk)


# ---------------------------------------------------------------- the data and the lists


@pytest.mark.parametrize("kind", sorted(FILES))
def test_the_copies_are_the_published_files(kind):
    entry = SOURCE["files"][FILES[kind]]
    assert hashlib.sha256((WYCHEPROOF / FILES[kind]).read_bytes()).hexdigest() == entry["sha256"]
    assert len(cases(kind)) == DOCUMENTS[kind]["numberOfTests"] == entry["numberOfTests"]


def test_every_vector_runs_once():
    assert len(params("jws")) == 401
    assert len(params("jwk")) == 26
    assert len({case.key for kind in FILES for case in cases(kind)}) == 427


def test_every_divergence_and_gap_names_a_published_vector_with_a_reason():
    published = {case.key for kind in FILES for case in cases(kind)}
    for listed in (DIVERGENCES, CORE_GAPS):
        for key, reason in listed.items():
            assert key in published
            assert len(reason) > 40
    assert not DIVERGENCES.keys() & CORE_GAPS.keys()


def test_the_lost_padding_vectors_are_the_valid_token_verbatim():
    tokens = {case.tc_id: case.token for case in cases("jws")}
    assert tokens[367] == tokens[370] == tokens[357]


# ---------------------------------------------------------------- why the mixed set is safe (jwk tcId 1)


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_a_mixed_set_never_checks_hmac_with_the_ec_key():
    """Algorithm confusion against the mixed set of jwk tcId 1: HS256 keyed by the EC public key."""
    mixed = next(case for case in cases("jwk") if case.tc_id == 1)
    ec_jwk = next(jwk for jwk in group(mixed)["private"]["keys"] if jwk["kty"] == "EC")
    keys, algorithms = jwk_key_set(mixed.group)
    assert set(algorithms) == {"HS256", "ES256"}
    header = json.dumps({"alg": "HS256", "kid": ec_jwk["kid"]}).encode()
    signing_input = f"{b64encode(header)}.{b64encode(b'{}')}".encode()
    for secret in (json.dumps(ec_jwk).encode(), base64.urlsafe_b64decode(ec_jwk["x"] + "=")):
        forged = f"{signing_input.decode()}.{b64encode(hmac.digest(secret, signing_input, 'sha256'))}"
        with pytest.raises(KeyNotFoundError):
            jwtkit.jws.verify(forged, keys, algorithms=algorithms)
