"""Differential testing: the corpus of ``differential_corpus.py`` through jwtkit, PyJWT and joserfc.

Each library gives a verdict per token, ``accept`` or ``reject``, with the same key, algorithms,
audience and issuer. Where the three do not agree, ``differential_divergences.json`` must explain the
case: one entry per class of disagreement, naming its cases, each library's verdict and why. A new
disagreement, a changed verdict or an entry whose case now agrees fails the suite.

jwtkit may only raise ``JWTError`` subclasses while rejecting; a peer's foreign exception counts as a
rejection here (the LESSONS file lists those separately).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from differential_corpus import Case, corpus
from joserfc import jwk as joserfc_jwk
from joserfc import jwt as joserfc_jwt

import jwtkit

DIVERGENCES = Path(__file__).resolve().parent / "differential_divergences.json"
LIBRARIES = ("jwtkit", "pyjwt", "joserfc")


def run_jwtkit(case: Case) -> str:
    try:
        jwtkit.decode(case.token, jwtkit.Key.from_jwk(case.jwk), algorithms=case.algorithms,
                      audience=case.audience, issuer=case.issuer)
    except jwtkit.JWTError:
        return "reject"
    return "accept"


def run_pyjwt(case: Case) -> str:
    try:
        key = pyjwt.PyJWK(case.jwk, algorithm=case.algorithms[0]).key
        pyjwt.decode(case.token, key, algorithms=list(case.algorithms), audience=case.audience, issuer=case.issuer)
    except Exception:
        return "reject"
    return "accept"


def run_joserfc(case: Case) -> str:
    try:
        key = joserfc_jwk.import_key(case.jwk)
        token = joserfc_jwt.decode(case.token, key, algorithms=list(case.algorithms))
        options: dict[str, Any] = {}
        if case.audience is not None:
            options["aud"] = {"essential": True, "value": case.audience}
        if case.issuer is not None:
            options["iss"] = {"essential": True, "value": case.issuer}
        joserfc_jwt.JWTClaimsRegistry(**options).validate(token.claims)
    except Exception:
        return "reject"
    return "accept"


RUNNERS = {"jwtkit": run_jwtkit, "pyjwt": run_pyjwt, "joserfc": run_joserfc}


def verdicts(case: Case) -> dict[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peers warn about short keys and risky headers; not our subject
        return {name: run(case) for name, run in RUNNERS.items()}


def explained() -> dict[str, tuple[str, dict[str, str]]]:
    """case name -> (divergence class, expected verdicts)."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for entry in json.loads(DIVERGENCES.read_text())["divergences"]:
        assert entry["why"].strip(), entry["class"]
        for name in entry["cases"]:
            assert name not in out, f"{name} listed twice"
            out[name] = (entry["class"], entry["verdicts"])
    return out


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, str]]:
    return {case.name: verdicts(case) for case in corpus()}


def test_the_corpus_covers_every_algorithm_and_every_kind_of_case():
    names = {case.name for case in corpus()}
    for alg in ("HS256", "HS512", "RS256", "PS512", "ES256", "ES512", "ES256K", "EdDSA"):
        assert f"{alg}/valid" in names
    for prefix in ("header/", "claims/", "aud/", "iss/", "form/", "confusion/"):
        assert any(name.startswith(prefix) for name in names), prefix


def test_every_library_accepts_the_valid_tokens(results):
    """Sanity: the adapters are right, else every comparison below is noise."""
    for name, verdict in results.items():
        if name.endswith("/valid") and not name.startswith("ES256K"):
            assert verdict == dict.fromkeys(LIBRARIES, "accept"), name


def test_every_library_rejects_forgeries(results):
    forged = ("tampered-payload", "tampered-signature", "alg-none", "psychic-zero-signature",
              "hs256-signed-with-rsa-public-pem", "signature-empty")
    for name, verdict in results.items():
        if name.rsplit("/", 1)[1] in forged:
            assert set(verdict.values()) == {"reject"}, (name, verdict)


def test_every_disagreement_is_explained_in_the_divergence_file(results):
    known = explained()
    unexplained = {name: v for name, v in results.items() if len(set(v.values())) > 1 and name not in known}
    changed = {name: (v, known[name][1]) for name, v in results.items() if name in known and v != known[name][1]}
    assert not unexplained, "new disagreements, explain them in differential_divergences.json or fix jwtkit:\n" + \
        "\n".join(f"  {name}: {v}" for name, v in sorted(unexplained.items()))
    assert not changed, f"verdicts changed (now, listed): {changed}"


def test_the_divergence_file_lists_only_cases_of_the_corpus():
    names = {case.name for case in corpus()}
    assert set(explained()) <= names, set(explained()) - names
