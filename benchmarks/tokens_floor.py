"""The floor and the primitive of ``bench_tokens.py``: the minimal complete JWT pipeline on the standard
library and pyca ``cryptography`` (what a pure-Python library could not do with less), the raw crypto
call alone, and the test material: keys for every algorithm, in every form the peers take, and the
access-token payload.

The floor's encode: ``json.dumps`` + base64url + sign (+ ECDSA DER -> R||S) + base64url + join, the
header segment precomputed (a library may cache it). Its verify: split + base64url-decode +
``json.loads`` of the header (alg check) and the payload + verify (+ R||S -> DER) + ``exp``/``iat``
checks. For HS256 the HMAC is a pre-keyed pyca context copied per call (faster than stdlib
``hmac.digest``), so the HS256 floor is as low as we know how to make it.
"""

from __future__ import annotations

import binascii
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ALGS = ("HS256", "RS256", "PS256", "ES256", "EdDSA")

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
