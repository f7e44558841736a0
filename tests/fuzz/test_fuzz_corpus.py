"""Replays the committed fuzz corpus through every fuzz target: findings stay fixed.

Every file under ``tests/fuzz/corpus/`` (seeds and minimised crashes the fuzzer found) goes
through every target of ``fuzz_targets``; each may raise only ``jwtkit.JWTError``.
"""

from pathlib import Path

import pytest
from fuzz_targets import HS_KEY, NOW, TARGETS, resign

import jwtkit

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file())
# (corpus file, target) pairs that still crash, each marked xfail(strict=True, raises=...) with
# the core bug it shows, e.g. ("jwks/crash-kty-unhashable", "jwks"): (TypeError, "core bug: ...").
# Empty: the three TypeErrors found first (unhashable kty/alg/crv in a JWK) are fixed in core.
KNOWN_CRASHES: dict[tuple[str, str], tuple[type[Exception], str]] = {}


def _cases() -> list[object]:
    cases = []
    for path in FILES:
        name = path.relative_to(CORPUS).as_posix()
        for target in sorted(TARGETS):
            known = KNOWN_CRASHES.get((name, target))
            marks = [pytest.mark.xfail(strict=True, raises=known[0], reason=known[1])] if known else []
            cases.append(pytest.param(path, target, id=f"{target}:{name}", marks=marks))
    names = {path.relative_to(CORPUS).as_posix() for path in FILES}
    assert all(name in names and target in TARGETS for name, target in KNOWN_CRASHES), "stale KNOWN_CRASHES"
    return cases


def test_the_corpus_is_not_empty():
    assert {p.parent.name for p in FILES} >= set(TARGETS)


@pytest.mark.parametrize(("path", "target"), _cases())
def test_a_corpus_input_raises_only_jwt_errors(path, target):
    TARGETS[target](path.read_bytes())


def test_the_valid_seed_passes_the_strict_verifier_of_the_signed_target():
    """The seed really reaches the claim checks: a fuzz target that always fails early finds nothing."""
    token = resign((CORPUS / "signed" / "claims-valid").read_bytes())
    claims = jwtkit.decode(
        token,
        HS_KEY,
        algorithms=["HS256"],
        audience="api",
        issuer="https://issuer.example",
        required=("exp", "sub", "jti"),
        now=NOW,
    )
    assert claims["sub"] == "42"


@pytest.mark.parametrize("path", sorted((CORPUS / "verify").glob("token-*")), ids=lambda p: p.name)
def test_the_seed_tokens_verify_with_the_fixed_keys(path):
    from fuzz_targets import KEYSET

    claims = jwtkit.Verifier(KEYSET, algorithms=["HS256", "ES256", "EdDSA"], audience="api").verify(
        path.read_bytes(), now=NOW
    )
    assert claims["jti"] == "j1"
