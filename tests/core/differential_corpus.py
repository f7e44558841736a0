"""The differential corpus: one list of tokens (valid, tampered, edge cases) with the key and the
options to verify each with, run through jwtkit, PyJWT and joserfc by ``test_differential.py``.

Keys are fixed (derived from constants; the RSA key is generated once per run, which changes no
verdict). Times are relative to the real clock at import, with margins of minutes, because PyJWT
reads the clock itself. Each case has a stable name: the divergence file refers to it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import jwtkit
from jwtkit import Key

NOW = int(time.time())
# A day either side: a full suite on a loaded machine can reach these tests half an hour after this module
# loaded, and a token meant to be live must still be.
PAST, FUTURE = NOW - 86_400, NOW + 86_400
HS_SECRET = hashlib.sha512(b"jwtkit differential").digest()  # 64 bytes: long enough for HS512 in every library
AUD, ISS = "api", "https://issuer.example"


@dataclass(frozen=True)
class Case:
    name: str
    token: str
    jwk: dict[str, Any]  # the verifying key, as a JWK (public, or the secret)
    algorithms: tuple[str, ...]
    audience: str | None = None
    issuer: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


EC_P256 = ec.derive_private_key(0xC0FFEE, ec.SECP256R1())


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def keys() -> dict[str, Key]:
    """One signing key per algorithm."""
    out = {f"HS{n}": Key.from_secret(HS_SECRET, alg=f"HS{n}", kid="hs") for n in (256, 384, 512)}
    out.update({f"{p}S{n}": Key.from_cryptography(rsa_key(), alg=f"{p}S{n}", kid="rsa")
                for p in "RP" for n in (256, 384, 512)})
    for alg, curve in (("ES256", ec.SECP256R1()), ("ES384", ec.SECP384R1()), ("ES512", ec.SECP521R1()),
                       ("ES256K", ec.SECP256K1())):
        out[alg] = Key.from_cryptography(ec.derive_private_key(0xC0FFEE, curve), alg=alg, kid=alg.lower())
    out["EdDSA"] = Key.from_cryptography(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)), alg="EdDSA",
                                         kid="ed")
    return out


def verifying_jwk(key: Key) -> dict[str, Any]:
    return key.to_jwk(private=key.kty == "oct")


def hs256(header: bytes | dict[str, Any], payload: bytes | dict[str, Any], *, secret: bytes = HS_SECRET) -> str:
    """An HS256 token over exactly these header and payload bytes (for malformed JSON and odd headers)."""
    h = header if isinstance(header, bytes) else dumps(header)
    p = payload if isinstance(payload, bytes) else dumps(payload)
    signing_input = f"{b64(h)}.{b64(p)}"
    return f"{signing_input}.{b64(hmac.digest(secret, signing_input.encode(), hashlib.sha256))}"


def _flip(segment: str, index: int) -> str:
    char = segment[index]
    return segment[:index] + ("A" if char != "A" else "B") + segment[index + 1:]


_SIBLING = {"HS256": "HS384", "HS384": "HS256", "HS512": "HS256", "RS256": "PS256", "RS384": "RS256",
            "RS512": "RS256", "PS256": "RS256", "PS384": "PS256", "PS512": "PS256"}


def _per_algorithm() -> list[Case]:
    cases = []
    claims = {"sub": "42", "iat": NOW, "exp": FUTURE}
    for alg, key in keys().items():
        token = jwtkit.encode(claims, key)
        h, p, s = token.split(".")
        jwk = verifying_jwk(key)
        tampered_payload = b64(dumps({**claims, "sub": "43"}))
        variants = {
            "valid": token,
            "tampered-payload": f"{h}.{tampered_payload}.{s}",
            "tampered-signature": f"{h}.{p}.{_flip(s, 3)}",
            "signature-padded": f"{token}==",
            "signature-truncated": f"{h}.{p}.{s[:-4]}",
            "signature-empty": f"{h}.{p}.",
            "signature-std-alphabet": f"{h}.{p}.{s.replace('-', '+').replace('_', '/')}",
            "alg-none": f"{b64(dumps({'alg': 'none'}))}.{p}.",
            "trailing-newline": token + "\n",
        }
        for variant, text in variants.items():
            if variant == "signature-std-alphabet" and text == token:
                continue
            cases.append(Case(f"{alg}/{variant}", text, jwk, (alg,)))
        if alg in _SIBLING:  # the key allows any algorithm of its type; the verifier allows another one
            free = {name: value for name, value in jwk.items() if name != "alg"}
            cases.append(Case(f"{alg}/not-in-allowed-algorithms", token, free, (_SIBLING[alg],)))
    ec_key = keys()["ES256"]
    h, p, _ = jwtkit.encode(claims, ec_key).split(".")
    ec_jwk = verifying_jwk(ec_key)
    cases.append(Case("ES256/psychic-zero-signature", f"{h}.{p}.{b64(bytes(64))}", ec_jwk, ("ES256",)))
    from cryptography.hazmat.primitives import hashes

    der = EC_P256.sign(f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256()))
    cases.append(Case("ES256/der-signature", f"{h}.{p}.{b64(der)}", ec_jwk, ("ES256",)))
    rsa_public = keys()["RS256"].public_key()
    pem = rsa_key().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    forged = hs256({"alg": "HS256", "typ": "JWT"}, claims, secret=pem)
    cases.append(Case("confusion/hs256-signed-with-rsa-public-pem", forged, verifying_jwk(rsa_public),
                      ("HS256", "RS256")))
    return cases


def _headers() -> list[Case]:
    claims = {"sub": "42", "exp": FUTURE}
    p = dumps(claims)
    base = {"alg": "HS256", "typ": "JWT"}
    headers: dict[str, bytes | dict[str, Any]] = {
        "typ-absent": {"alg": "HS256"},
        "typ-lowercase": {"alg": "HS256", "typ": "jwt"},
        "typ-at+jwt": {"alg": "HS256", "typ": "at+jwt"},
        "typ-number": {"alg": "HS256", "typ": 1},
        "kid-matching": {**base, "kid": "hs"},
        "kid-unknown": {**base, "kid": "other"},
        "kid-empty": {**base, "kid": ""},
        "kid-number": {**base, "kid": 7},
        "kid-list": {**base, "kid": ["hs"]},
        "crit-unknown": {**base, "crit": ["exp2"], "exp2": 1},
        "crit-empty": {**base, "crit": []},
        "crit-not-a-list": {**base, "crit": "exp2"},
        "crit-b64": {**base, "crit": ["b64"], "b64": False},
        "b64-false-without-crit": {**base, "b64": False},
        "b64-true": {**base, "b64": True},
        "alg-lowercase": {"alg": "hs256", "typ": "JWT"},
        "alg-none-in-hs-token": {"alg": "None"},
        "alg-missing": {"typ": "JWT"},
        "alg-list": {"alg": ["HS256"]},
        "jwk-embedded": {**base, "jwk": {"kty": "oct", "k": b64(b"attacker")}},
        "jku": {**base, "jku": "https://attacker.example/jwks.json"},
        "x5u": {**base, "x5u": "https://attacker.example/cert.pem"},
        "zip": {**base, "zip": "DEF"},
        "enc-jwe-member": {**base, "enc": "A128GCM"},
        "duplicate-alg": b'{"alg":"none","alg":"HS256"}',
        "duplicate-typ": b'{"alg":"HS256","typ":"JWT","typ":"JOSE"}',
        "header-array": b'["HS256"]',
        "header-not-json": b"alg=HS256",
        "header-bom": b'\xef\xbb\xbf{"alg":"HS256"}',
        "header-latin1": b'{"alg":"HS256","x":"\xe9"}',
        "header-whitespace": b' {"alg" : "HS256"} ',
        "header-trailing-garbage": b'{"alg":"HS256"}x',
    }
    return [Case(f"header/{name}", hs256(h, p), verifying_jwk(keys()["HS256"]), ("HS256",))
            for name, h in headers.items()]


def _payloads() -> list[Case]:
    payloads: dict[str, bytes | dict[str, Any]] = {
        "empty-object": {},
        "exp-past": {"exp": PAST},
        "exp-future-float": {"exp": FUTURE + 0.5},
        "exp-past-float": {"exp": PAST + 0.5},
        "exp-string": {"exp": str(FUTURE)},
        "exp-string-past": {"exp": str(PAST)},
        "exp-true": {"exp": True},
        "exp-null": {"exp": None},
        "exp-negative": {"exp": -1},
        "exp-huge-int": {"exp": 10**30},
        "exp-1e400": b'{"exp":1e400}',
        "exp-nan": b'{"exp":NaN}',
        "exp-infinity": b'{"exp":Infinity}',
        "exp-list": {"exp": [FUTURE]},
        "nbf-future": {"nbf": FUTURE},
        "nbf-past": {"nbf": PAST},
        "nbf-string": {"nbf": str(PAST)},
        "nbf-true": {"nbf": True},
        "iat-future": {"iat": FUTURE},
        "iat-past": {"iat": PAST},
        "iat-string": {"iat": str(PAST)},
        "iat-false": {"iat": False},
        "iat-huge": {"iat": 10**30},
        "sub-number": {"sub": 42},
        "sub-null": {"sub": None},
        "jti-null": {"jti": None},
        "iss-null": {"iss": None},
        "jti-number": {"jti": 7},
        "iss-unexpected": {"iss": ISS},
        "iss-number": {"iss": 1},
        "aud-unexpected": {"aud": AUD},
        "duplicate-exp": b'{"exp":' + str(PAST).encode() + b',"exp":' + str(FUTURE).encode() + b"}",
        "duplicate-sub": b'{"sub":"a","sub":"b"}',
        "payload-array": b"[1]",
        "payload-string": b'"claims"',
        "payload-null": b"null",
        "payload-not-json": b"claims",
        "payload-empty": b"",
        "payload-bom": b'\xef\xbb\xbf{"sub":"42"}',
        "payload-invalid-utf8": b'{"sub":"\xff"}',
        "payload-lone-surrogate": b'{"sub":"\\ud800"}',
        "payload-nul": b'{"sub":"a\\u0000b"}',
        "payload-deep": b'{"a":' * 200 + b"1" + b"}" * 200,
        "payload-trailing-garbage": b'{"sub":"42"}x',
        "payload-big-number": b'{"n":' + b"9" * 5000 + b"}",
    }
    jwk = verifying_jwk(keys()["HS256"])
    return [Case(f"claims/{name}", hs256({"alg": "HS256", "typ": "JWT"}, p), jwk, ("HS256",))
            for name, p in payloads.items()]


def _audience_and_issuer() -> list[Case]:
    jwk = verifying_jwk(keys()["HS256"])
    aud_forms: dict[str, Any] = {"string": AUD, "list": [AUD, "other"], "list-one": [AUD], "empty-list": [],
                                 "other": "apix", "substring": "ap", "superstring": "api2", "list-of-int": [1],
                                 "number": 1, "null": None, "list-with-null": [AUD, None], "object": {"aud": AUD}}
    cases = [Case(f"aud/{name}", hs256({"alg": "HS256"}, {"aud": value, "exp": FUTURE}), jwk, ("HS256",),
                  audience=AUD) for name, value in aud_forms.items()]
    cases.append(Case("aud/absent-but-expected", hs256({"alg": "HS256"}, {"exp": FUTURE}), jwk, ("HS256",),
                      audience=AUD))
    iss_forms: dict[str, Any] = {"exact": ISS, "prefix": ISS + "/x", "substring": ISS[:-1], "list": [ISS],
                                 "number": 1, "null": None, "case": ISS.upper()}
    cases += [Case(f"iss/{name}", hs256({"alg": "HS256"}, {"iss": value, "exp": FUTURE}), jwk, ("HS256",),
                   issuer=ISS) for name, value in iss_forms.items()]
    cases.append(Case("iss/absent-but-expected", hs256({"alg": "HS256"}, {"exp": FUTURE}), jwk, ("HS256",),
                      issuer=ISS))
    return cases


def _structure() -> list[Case]:
    jwk = verifying_jwk(keys()["HS256"])
    token = hs256({"alg": "HS256", "typ": "JWT"}, {"sub": "42", "exp": FUTURE})
    h, p, s = token.split(".")
    forms = {
        "two-segments": f"{h}.{p}",
        "four-segments": f"{token}.x",
        "five-segments-jwe-shape": f"{h}.{p}.{s}.x.y",
        "empty": "",
        "dots-only": "..",
        "header-padded": f"{h}=.{p}.{s}",
        "payload-padded": f"{h}.{p}==.{s}",
        "whitespace-inside": f"{h}. {p}.{s}",
        "leading-space": f" {token}",
        "payload-std-alphabet": f"{h}.{p.replace('-', '+').replace('_', '/')}.{s}",
        "non-canonical-last-char": f"{h}.{p}.{s[:-1]}{chr(ord(s[-1]) + 1) if s[-1] not in 'z9_-' else 'A'}",
        "non-ascii": f"{h}.{p}.{s}é",
        "unicode-dot": f"{h}\u3002{p}\u3002{s}",
    }
    return [Case(f"form/{name}", text, jwk, ("HS256",)) for name, text in forms.items()]


@functools.cache
def corpus() -> tuple[Case, ...]:
    cases = [*_per_algorithm(), *_headers(), *_payloads(), *_audience_and_issuer(), *_structure()]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return tuple(cases)
