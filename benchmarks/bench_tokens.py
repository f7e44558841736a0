#!/usr/bin/env python3
"""jwtkit against its peers and the floor: µs per JWT encode and verify-with-claims.

Usage (from the repository root)::

    .venv/bin/pip install -e '.[bench]'          # PyJWT, joserfc, jwcrypto, python-jose, Authlib
    .venv/bin/python benchmarks/bench_tokens.py           # full run, ~2-4 minutes
    .venv/bin/python benchmarks/bench_tokens.py --quick   # smoke run, ~20 s
    .venv/bin/python benchmarks/bench_tokens.py --json results.json

What is measured, for HS256, RS256 (2048-bit), PS256, ES256 (P-256) and EdDSA (Ed25519):

  encode   sign the access-token payload
           {"token_type":"access","exp":now+300,"iat":now,"jti":<32 hex>,"user_id":123}
           and return the compact JWS string.
  verify   check the signature, then exp and iat (both required), returning the claims.

Columns:

  primitive  the raw crypto call on the signing input only: a pre-keyed pyca HMAC
             context copied per call (HS256), else pyca sign()/verify(). No JSON, no base64.
  floor      the minimal complete pipeline on stdlib + pyca ``cryptography``:
               encode = json.dumps + base64url + sign (+ ECDSA DER -> R||S) + base64url + join,
                        with the header segment precomputed (a library may cache it);
               verify = split + base64url-decode + json.loads of header (alg check) and
                        payload + verify (+ R||S -> DER) + exp/iat checks.
             For HS256 the floor's HMAC is the pre-keyed pyca context too (faster than
             stdlib ``hmac.digest``), so the HS256 floor is as low as we know how to make it.
  jwtkit     ``jwtkit.encode(claims, key)`` and a prebuilt
             ``Verifier(key, algorithms=[alg], required=["exp", "iat"]).verify(token)``.
  peers      PyJWT, joserfc, jwcrypto, python-jose, Authlib (those installed), each used the
             fair, fast way: keys parsed once into the library's key object, only the
             encode/decode call timed, exp/iat required where the library can.

Method (see ``_timing.py``): each cell is calibrated to a batch of ~25 ms (quick: 10 ms);
then 41 rounds (quick: 5), each running the cells of one alg x op group back-to-back in a
shuffled order, groups shuffled too. Ratios are paired: per round, cell / floor, then the
median over rounds; times are medians of the per-round per-op times. Tokens are re-issued
each round (exp = now + 300). A full run first waits (up to ``--quiet-budget`` seconds in all)
for other processes to go quiet, and reports the CPU share they used during the rounds.
Before timing, every cell is checked: an encoder's token must verify with the floor and
round-trip the claims; a verifier must return the claims of a good token and reject one
with a tampered payload and one that expired an hour ago. A failing cell prints FAIL and
is not timed.

The floor, the peers' set-up and the method are adapted from the shared yardstick
``micro_peers.py`` (the project's shared bench folder); this script is self-contained.
"""

from __future__ import annotations

import argparse
import binascii
import hmac
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import Cell, load_summary, paired_diff_us, paired_ratio, paired_rel_iqr, run_rounds

ALGS = ("HS256", "RS256", "PS256", "ES256", "EdDSA")
OPS = ("encode", "verify")
LIBS = ("jwtkit", "pyjwt", "joserfc", "jwcrypto", "python-jose", "authlib")
DISTS = ("cryptography", "PyJWT", "joserfc", "jwcrypto", "python-jose", "Authlib", "orjson")
# The targets: jwtkit / floor at most this (per alg, op); HS256 verify also >= 3x PyJWT.
TARGETS = {("HS256", "verify"): 1.5, ("HS256", "encode"): 1.5}
DEFAULT_TARGET = 1.1
PYJWT_SPEEDUP_TARGET = 3.0

Fn = Callable[[Any], Any]


# ---------------------------------------------------------------- base64url, keys, payload
_TO_URL = bytes.maketrans(b"+/", b"-_")
_TO_STD = bytes.maketrans(b"-_", b"+/")


def b64e(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=")


def b64d(data: bytes) -> bytes:
    return binascii.a2b_base64(data.translate(_TO_STD) + b"=" * (-len(data) % 4), strict_mode=True)


def b64e_int(n: int, length: int | None = None) -> str:
    return b64e(n.to_bytes(length or (n.bit_length() + 7) // 8, "big")).decode()


@dataclass
class KeyMaterial:
    alg: str
    private: Any  # pyca private key (HS256: the secret bytes)
    public: Any  # pyca public key (HS256: the secret bytes)
    private_pem: bytes | None
    public_pem: bytes | None
    private_jwk: dict[str, str]
    public_jwk: dict[str, str]


def make_keys() -> dict[str, KeyMaterial]:
    keys: dict[str, KeyMaterial] = {}
    secret = os.urandom(32)
    jwk = {"kty": "oct", "k": b64e(secret).decode(), "alg": "HS256"}
    keys["HS256"] = KeyMaterial("HS256", secret, secret, None, None, jwk, jwk)

    def pems(priv: Any) -> tuple[bytes, bytes]:
        return (
            priv.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            priv.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )

    for alg in ("RS256", "PS256"):
        priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pn, ppn = priv.private_numbers(), priv.public_key().public_numbers()
        pub_jwk = {"kty": "RSA", "n": b64e_int(ppn.n), "e": b64e_int(ppn.e), "alg": alg}
        priv_jwk = dict(pub_jwk, d=b64e_int(pn.d), p=b64e_int(pn.p), q=b64e_int(pn.q),
                        dp=b64e_int(pn.dmp1), dq=b64e_int(pn.dmq1), qi=b64e_int(pn.iqmp))
        keys[alg] = KeyMaterial(alg, priv, priv.public_key(), *pems(priv), priv_jwk, pub_jwk)

    ec_priv = ec.generate_private_key(ec.SECP256R1())
    epn = ec_priv.public_key().public_numbers()
    pub_jwk = {"kty": "EC", "crv": "P-256", "x": b64e_int(epn.x, 32), "y": b64e_int(epn.y, 32), "alg": "ES256"}
    priv_jwk = dict(pub_jwk, d=b64e_int(ec_priv.private_numbers().private_value, 32))
    keys["ES256"] = KeyMaterial("ES256", ec_priv, ec_priv.public_key(), *pems(ec_priv), priv_jwk, pub_jwk)

    ed_priv = ed25519.Ed25519PrivateKey.generate()
    raw_pub = ed_priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw_priv = ed_priv.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub_jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64e(raw_pub).decode(), "alg": "EdDSA"}
    priv_jwk = dict(pub_jwk, d=b64e(raw_priv).decode())
    keys["EdDSA"] = KeyMaterial("EdDSA", ed_priv, ed_priv.public_key(), *pems(ed_priv), priv_jwk, pub_jwk)
    return keys


def make_payload(now: int | None = None, exp_in: int = 300) -> dict[str, Any]:
    now = int(time.time()) if now is None else now
    return {"token_type": "access", "exp": now + exp_in, "iat": now, "jti": os.urandom(16).hex(), "user_id": 123}


# ---------------------------------------------------------------- primitive and floor
class BadToken(Exception):
    pass


def raw_crypto(alg: str, km: KeyMaterial) -> tuple[Callable[[bytes], bytes], Callable[[bytes, bytes], bool]]:
    """(sign(si) -> JWS signature, verify(si, sig) -> bool), with ECDSA as R||S."""
    if alg == "HS256":
        h0 = crypto_hmac.HMAC(km.private, hashes.SHA256())  # keyed once, copied per call
        compare = hmac.compare_digest

        def hs_sign(si: bytes) -> bytes:
            h = h0.copy()
            h.update(si)
            return h.finalize()

        def hs_verify(si: bytes, sig: bytes) -> bool:
            h = h0.copy()
            h.update(si)
            return compare(h.finalize(), sig)

        return hs_sign, hs_verify
    priv, pub = km.private, km.public
    if alg in ("RS256", "PS256"):
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        )
        digest = hashes.SHA256()

        def rsa_verify(si: bytes, sig: bytes) -> bool:
            try:
                pub.verify(sig, si, pad, digest)
            except InvalidSignature:
                return False
            return True

        return (lambda si: priv.sign(si, pad, digest)), rsa_verify
    if alg == "ES256":
        scheme = ec.ECDSA(hashes.SHA256())

        def es_sign(si: bytes) -> bytes:
            r, s = decode_dss_signature(priv.sign(si, scheme))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")

        def es_verify(si: bytes, sig: bytes) -> bool:
            if len(sig) != 64:
                return False
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            try:
                pub.verify(der, si, scheme)
            except InvalidSignature:
                return False
            return True

        return es_sign, es_verify

    def ed_verify(si: bytes, sig: bytes) -> bool:
        try:
            pub.verify(sig, si)
        except InvalidSignature:
            return False
        return True

    return priv.sign, ed_verify


def primitive_callables(alg: str, km: KeyMaterial) -> dict[str, Fn]:
    """The library call only: signing input in, signature (DER for ECDSA) out, and back."""
    if alg == "HS256":
        sign, verify = raw_crypto(alg, km)
        return {"encode": sign, "verify": lambda a: verify(*a)}
    priv, pub = km.private, km.public
    if alg in ("RS256", "PS256"):
        pad: padding.AsymmetricPadding = (
            padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        )
        digest = hashes.SHA256()
        return {"encode": lambda si: priv.sign(si, pad, digest), "verify": lambda a: pub.verify(a[1], a[0], pad, digest)}
    if alg == "ES256":
        scheme = ec.ECDSA(hashes.SHA256())
        return {"encode": lambda si: priv.sign(si, scheme), "verify": lambda a: pub.verify(a[1], a[0], scheme)}
    return {"encode": priv.sign, "verify": lambda a: pub.verify(a[1], a[0])}


def floor_callables(alg: str, km: KeyMaterial, use_orjson: bool = False) -> dict[str, Fn]:
    sign, verify = raw_crypto(alg, km)
    if use_orjson:
        import orjson

        dumps: Callable[[Any], bytes] = orjson.dumps
        loads: Callable[[bytes], Any] = orjson.loads
    else:
        _dumps, _loads = json.JSONEncoder(separators=(",", ":")).encode, json.loads

        def dumps(obj: Any) -> bytes:
            return _dumps(obj).encode()

        def loads(b: bytes) -> Any:
            return _loads(b.decode())

    header_seg = b64e(dumps({"alg": alg, "typ": "JWT"})) + b"."
    now_fn = time.time

    def encode(payload: dict[str, Any]) -> str:
        si = header_seg + b64e(dumps(payload))
        return (si + b"." + b64e(sign(si))).decode()

    def decode(token: str) -> dict[str, Any]:
        try:
            tb = token.encode("ascii")
            h, p, s = tb.split(b".")
            header = loads(b64d(h))
            if header["alg"] != alg:
                raise BadToken("alg")
            sig = b64d(s)
        except BadToken:
            raise
        except Exception as e:
            raise BadToken("malformed") from e
        if not verify(tb[: len(h) + 1 + len(p)], sig):
            raise BadToken("signature")
        try:
            claims = loads(b64d(p))
            exp, iat = claims["exp"], claims["iat"]
        except Exception as e:
            raise BadToken("malformed") from e
        now = now_fn()
        if type(exp) not in (int, float) or exp <= now:
            raise BadToken("expired")
        if type(iat) not in (int, float) or iat > now:
            raise BadToken("iat")
        return claims  # type: ignore[no-any-return]

    return {"encode": encode, "verify": decode}


def parse_only(token: str) -> tuple[Any, Any, bytes]:
    """split + base64url + json.loads of header and payload: no crypto, no checks."""
    h, p, s = token.encode("ascii").split(b".")
    return json.loads(b64d(h)), json.loads(b64d(p)), b64d(s)


# ---------------------------------------------------------------- jwtkit and peers
def lib_jwtkit(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    # Measure this checkout's jwtkit, whichever environment runs the script.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import jwtkit

    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        key = jwtkit.Key.from_jwk(keys[alg].private_jwk)
        verifier = jwtkit.Verifier(
            key if alg == "HS256" else key.public_key(), algorithms=[alg], required=["exp", "iat"]
        )
        out[(alg, "encode")] = lambda p, k=key: jwtkit.encode(p, k)
        out[(alg, "verify")] = verifier.verify
    return out


def lib_pyjwt(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    import jwt

    opts = {"require": ["exp", "iat"]}
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        priv, pub, algs = keys[alg].private, keys[alg].public, [alg]
        out[(alg, "encode")] = lambda p, priv=priv, alg=alg: jwt.encode(p, priv, algorithm=alg)
        out[(alg, "verify")] = lambda t, pub=pub, algs=algs: jwt.decode(t, pub, algorithms=algs, options=opts)
    return out


def lib_joserfc(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    from joserfc import jwt
    from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

    registry = jwt.JWTClaimsRegistry(exp={"essential": True}, iat={"essential": True})
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        km = keys[alg]
        if alg == "HS256":
            priv = pub = OctKey.import_key(km.private)
        else:
            cls: Any = {"RS256": RSAKey, "PS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey}[alg]
            priv, pub = cls.import_key(km.private_pem), cls.import_key(km.public_pem)
        hdr, algs = {"alg": alg}, [alg]

        def dec(t: str, pub: Any = pub, algs: list[str] = algs) -> Any:
            tok = jwt.decode(t, pub, algorithms=algs)
            registry.validate(tok.claims)
            return tok.claims

        out[(alg, "encode")] = lambda p, priv=priv, hdr=hdr, algs=algs: jwt.encode(hdr, p, priv, algorithms=algs)
        out[(alg, "verify")] = dec
    return out


def lib_jwcrypto(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    from jwcrypto import jwk, jwt

    checks = {"exp": None, "iat": None}
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        km = keys[alg]
        if alg == "HS256":
            priv = pub = jwk.JWK(**{k: v for k, v in km.private_jwk.items() if k != "alg"})
        else:
            priv, pub = jwk.JWK.from_pyca(km.private), jwk.JWK.from_pyca(km.public)
        hdr, algs = {"alg": alg, "typ": "JWT"}, [alg]

        def enc(p: dict[str, Any], priv: Any = priv, hdr: dict[str, str] = hdr) -> str:
            t = jwt.JWT(header=hdr, claims=p)
            t.make_signed_token(priv)
            return t.serialize()  # type: ignore[no-any-return]

        def dec(t: str, pub: Any = pub, algs: list[str] = algs) -> Any:
            tok = jwt.JWT(jwt=t, key=pub, algs=algs, expected_type="JWS", check_claims=checks)
            return json.loads(tok.claims)

        out[(alg, "encode")] = enc
        out[(alg, "verify")] = dec
    return out


def lib_python_jose(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    from jose import jwk, jwt
    from jose.constants import ALGORITHMS

    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        if alg not in ALGORITHMS.SUPPORTED:
            continue  # python-jose has no PS256 and no EdDSA
        km = keys[alg]
        if alg == "HS256":
            priv = pub = jwk.construct(km.private, alg)
        else:
            priv, pub = jwk.construct(km.private_pem, alg), jwk.construct(km.public_pem, alg)
        algs = [alg]
        out[(alg, "encode")] = lambda p, priv=priv, alg=alg: jwt.encode(p, priv, algorithm=alg)
        out[(alg, "verify")] = lambda t, pub=pub, algs=algs: jwt.decode(t, pub, algorithms=algs)
    return out


def lib_authlib(keys: Mapping[str, KeyMaterial]) -> dict[tuple[str, str], Fn]:
    import authlib.deprecate  # noqa: F401  (installs an "always" warnings filter at import)

    with warnings.catch_warnings():  # authlib.jose says it is deprecated in favour of joserfc
        warnings.simplefilter("ignore")
        from authlib.jose import ECKey, JsonWebToken, OctKey, OKPKey, RSAKey
    opts = {"exp": {"essential": True}, "iat": {"essential": True}}
    out: dict[tuple[str, str], Fn] = {}
    for alg in ALGS:
        km = keys[alg]
        if alg == "HS256":
            priv = pub = OctKey.import_key(km.private)
        else:
            cls: Any = {"RS256": RSAKey, "PS256": RSAKey, "ES256": ECKey, "EdDSA": OKPKey}[alg]
            priv, pub = cls.import_key(km.private_pem), cls.import_key(km.public_pem)
        jt, hdr = JsonWebToken([alg]), {"alg": alg}

        def dec(t: str, pub: Any = pub, jt: Any = jt) -> Any:
            c = jt.decode(t, pub, claims_options=opts)
            c.validate()
            return c

        out[(alg, "encode")] = lambda p, priv=priv, hdr=hdr, jt=jt: jt.encode(hdr, p, priv)
        out[(alg, "verify")] = dec
    return out


FACTORIES: dict[str, Callable[[Mapping[str, KeyMaterial]], dict[tuple[str, str], Fn]]] = {
    "jwtkit": lib_jwtkit,
    "pyjwt": lib_pyjwt,
    "joserfc": lib_joserfc,
    "jwcrypto": lib_jwcrypto,
    "python-jose": lib_python_jose,
    "authlib": lib_authlib,
}


# ---------------------------------------------------------------- checks
def check_cell(op: str, fn: Fn, floor: Mapping[str, Fn]) -> str | None:
    """None when ``fn`` behaves correctly, else a short reason."""
    try:
        if op == "encode":
            payload = make_payload()
            tok = fn(payload)
            if isinstance(tok, bytes):
                tok = tok.decode()
            return None if floor["verify"](tok) == payload else "claims differ"
        good = make_payload()
        tok = floor["encode"](good)
        if dict(fn(tok)) != good:
            return "claims differ"
        h, _, s = tok.split(".")
        tampered = h + "." + floor["encode"](dict(good, user_id=124)).split(".")[1] + "." + s
        expired = floor["encode"](make_payload(int(time.time()) - 7200, exp_in=3600))
        for bad, what in ((tampered, "a tampered payload"), (expired, "an expired token")):
            try:
                fn(bad)
            except Exception:  # every library raises its own error type
                continue
            return f"accepted {what}"
        return None
    except Exception as e:
        return f"{type(e).__name__}: {e}"[:80]


# ---------------------------------------------------------------- formatting
def fmt_us(us: float | None) -> str:
    if us is None:
        return "n/a"
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("jwtkit", *DISTS):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="µs per JWT encode/verify: jwtkit, its peers and the floor")
    ap.add_argument("--quick", action="store_true", help="smoke run: 10 ms batches, 5 rounds, no waiting for quiet")
    ap.add_argument("--rounds", type=int, help="number of rounds (default 41, quick 5)")
    ap.add_argument("--target", type=float, help="seconds per timed batch (default 0.025, quick 0.01)")
    ap.add_argument("--quiet-budget", type=float,
                    help="seconds the run may wait in all for other processes to go quiet (default 120, quick 0)")
    ap.add_argument("--libs", help=f"comma-separated subset of {','.join(LIBS)}")
    ap.add_argument("--json", metavar="FILE", help="also write every sample and the summary as JSON")
    args = ap.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 41)
    target = args.target or (0.01 if args.quick else 0.025)
    quiet_budget = args.quiet_budget if args.quiet_budget is not None else (0.0 if args.quick else 120.0)
    libs = [name for name in (args.libs.split(",") if args.libs else LIBS) if name]
    warnings.filterwarnings("ignore")  # peers' deprecation notices (authlib.jose, joserfc EdDSA)

    keys = make_keys()
    floors = {alg: floor_callables(alg, keys[alg]) for alg in ALGS}
    try:
        floors_oj: dict[str, dict[str, Fn]] = {alg: floor_callables(alg, keys[alg], True) for alg in ALGS}
    except ImportError:
        floors_oj = {}

    impls: dict[str, dict[tuple[str, str], Fn]] = {}
    for name in libs:
        try:
            impls[name] = FACTORIES[name](keys)
        except ImportError as e:
            print(f"{name}: not installed ({e}); skipped", file=sys.stderr)
    columns = list(impls)

    # Per round: a fresh payload and fresh tokens (exp = now + 300), the signing input and
    # the raw primitive signature over it (DER for ECDSA).
    prims = {alg: primitive_callables(alg, keys[alg]) for alg in ALGS}

    def make_args() -> dict[str, Any]:
        out: dict[str, Any] = {"payload": make_payload()}
        for alg in ALGS:
            tok = floors[alg]["encode"](make_payload())
            si = tok.encode().rsplit(b".", 1)[0]
            out[alg] = {"token": tok, "si": si, "si_sig": (si, prims[alg]["encode"](si))}
        return out

    def arg_of(alg: str, kind: str) -> Callable[[dict[str, Any]], Any]:
        if kind == "payload":
            return lambda a: a["payload"]
        return lambda a: a[alg][kind]

    cells: list[Cell] = []
    status: dict[tuple[str, str, str], str] = {}
    for alg in ALGS:
        enc_g, ver_g = (alg, "encode"), (alg, "verify")
        cells.append(Cell(("primitive", alg, "encode"), enc_g, prims[alg]["encode"], arg_of(alg, "si")))
        cells.append(Cell(("primitive", alg, "verify"), ver_g, prims[alg]["verify"], arg_of(alg, "si_sig")))
        cells.append(Cell(("parse-only", alg, "verify"), ver_g, parse_only, arg_of(alg, "token")))
        candidates: list[tuple[str, str, Fn | None]] = [("floor", op, floors[alg][op]) for op in OPS]
        candidates += [("floor-orjson", op, floors_oj[alg][op]) for op in OPS if floors_oj]
        candidates += [(col, op, impls[col].get((alg, op))) for col in columns for op in OPS]
        for col, op, fn in candidates:
            if fn is None:
                status[(col, alg, op)] = "n/a"
                continue
            err = check_cell(op, fn, floors[alg])
            if err:
                status[(col, alg, op)] = "FAIL: " + err
                print(f"{col} {alg} {op}: FAIL {err}", file=sys.stderr)
                continue
            kind = "payload" if op == "encode" else "token"
            cells.append(Cell((col, alg, op), (alg, op), fn, arg_of(alg, kind)))

    print(f"timing {len(cells)} cells x {rounds} rounds, ~{target * 1000:.0f} ms per batch", file=sys.stderr)
    stats = run_rounds(cells, make_args, target=target, rounds=rounds, quiet_budget=quiet_budget)
    res = {c.key: c for c in cells}

    def us(key: tuple[str, str, str]) -> float | None:
        c = res.get(key)
        return c.median_us() if c else None

    def ratio(col: str, alg: str, op: str, den: str = "floor") -> float | None:
        return paired_ratio(res.get((col, alg, op)), res.get((den, alg, op)))

    def cell_text(col: str, alg: str, op: str) -> str:
        key = (col, alg, op)
        if key in status:
            return "n/a" if status[key] == "n/a" else "FAIL"
        r = ratio(col, alg, op)
        return f"{fmt_us(us(key))} ({r:.2f}x)" if r is not None else fmt_us(us(key))

    vers = versions()
    lines = [
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} CPUs, {platform.machine()}, "
        f"{platform.system()} {platform.release()}",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        f"Mode: {'quick' if args.quick else 'full'}: {rounds} rounds x ~{target * 1000:.0f} ms batches per cell; "
        f"wall {stats.elapsed:.0f} s.",
        "",
        "### µs per operation (paired ratio to the floor)",
        "",
    ]
    rows = []
    for alg in ALGS:
        for op in OPS:
            row = [alg, op, fmt_us(us(("primitive", alg, op))), fmt_us(us(("floor", alg, op)))]
            row += [cell_text(col, alg, op) for col in columns]
            speedup = ratio("pyjwt", alg, op, den="jwtkit") if "jwtkit" in columns else None
            row.append("n/a" if speedup is None else f"{speedup:.2f}x")
            rows.append(row)
    lines += table(["alg", "op", "primitive", "floor", *columns, "jwtkit speed-up over PyJWT"], rows)
    lines += [
        "",
        "primitive = the raw pyca call on the signing input; floor = the minimal complete pipeline "
        "(split, base64url, stdlib json, pyca sign/verify, exp/iat check). "
        "Ratios and the speed-up are medians over rounds of same-round ratios.",
        "",
        "### Overhead over the floor, µs per operation (median of same-round differences)",
        "",
    ]
    rows = []
    for alg in ALGS:
        for op in OPS:
            row = [alg, op]
            for col in ("primitive", "floor-orjson", *columns):
                key = (col, alg, op)
                d = None if key in status else paired_diff_us(res.get(key), res.get(("floor", alg, op)))
                row.append("n/a" if d is None else f"{d:+.2f}")
            rows.append(row)
    lines += table(["alg", "op", "primitive", "floor-orjson", *columns], rows)
    lines += [
        "",
        "primitive's negative figure is the JWS framing cost of the floor (JSON, base64url, split, claim checks); "
        "floor-orjson shows what orjson would save.",
    ]
    summary: dict[str, Any] = {}
    if "jwtkit" in columns:
        lines += ["", "### jwtkit against the targets (issue 2)", ""]
        rows = []
        for alg in ALGS:
            for op in OPS:
                limit = TARGETS.get((alg, op), DEFAULT_TARGET)
                r = ratio("jwtkit", alg, op)
                verdict = "n/a" if r is None else ("met" if r <= limit else "missed")
                rows.append([alg, op, f"<= {limit}x floor", "n/a" if r is None else f"{r:.2f}x", verdict])
                summary[f"{alg} {op}"] = {"ratio_to_floor": r, "target": limit,
                                          "speedup_over_pyjwt": ratio("pyjwt", alg, op, den="jwtkit")}
        s = ratio("pyjwt", "HS256", "verify", den="jwtkit")
        rows.append(["HS256", "verify", f">= {PYJWT_SPEEDUP_TARGET}x faster than PyJWT",
                     "n/a" if s is None else f"{s:.2f}x", "n/a" if s is None else
                     ("met" if s >= PYJWT_SPEEDUP_TARGET else "missed")])
        lines += table(["alg", "op", "target", "measured", "verdict"], rows)
    spreads = [c.rel_iqr() for c in cells]
    pspreads = [paired_rel_iqr(c, res[("floor", *c.key[1:])]) for c in cells
                if c.key[0] in columns and ("floor", *c.key[1:]) in res]
    lines += [
        "",
        f"Noise: relative IQR over rounds of raw per-op times: median {statistics.median(spreads) * 100:.1f}%, "
        f"max {max(spreads) * 100:.1f}%; of the paired ratios to the floor: median "
        f"{statistics.median(pspreads) * 100 if pspreads else 0:.1f}%, max {max(pspreads, default=0) * 100:.1f}%.",
        load_summary(stats),
    ]
    print("\n".join(lines))

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({
                "versions": vers, "rounds": rounds, "target_s": target, "cpus": os.cpu_count(),
                "foreign_load": stats.foreign, "waited_s": stats.waited, "jwtkit_summary": summary,
                "cells": {"|".join(c.key): {"median_us": c.median_us(), "number": c.number,
                                            "ratio_to_floor": paired_ratio(c, res.get(("floor", *c.key[1:]))),
                                            "samples_us": [s * 1e6 for s in c.samples]} for c in cells},
                "status": {"|".join(k): v for k, v in status.items()},
            }, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
