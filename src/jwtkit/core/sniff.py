"""Recognising asymmetric key material that someone passes where an HMAC secret belongs.

Using a public key as an HMAC secret is the algorithm-confusion attack (CVE-2017-11424,
CVE-2022-29217, CVE-2024-33663): ``Key.from_secret`` and ``oct`` JWKs refuse anything that
looks like a key in any encoding the peers were bitten by. Runs once per key import.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re

from cryptography.hazmat.primitives import serialization

_SSH_PUBLIC_PREFIX = re.compile(rb"^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-|sk-(ssh|ecdsa))")
_BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/_=\s-]{64,}$")
_URL_TO_STD = bytes.maketrans(b"-_", b"+/")


def looks_like_key_material(secret: bytes) -> bool:
    """Whether ``secret`` is a public (or private) key in any common encoding.

    Checked in every form the peers were bitten by: PEM or RFC 4716 armour anywhere in the
    bytes, OpenSSH text and bare key blobs, DER (SubjectPublicKeyInfo, PKCS#1, certificate,
    private), base64 or base64url DER with the armour stripped, and JWK JSON.
    """
    stripped = secret.strip()
    lowered = stripped.lower()
    if b"---- begin" in lowered or b"-----begin" in lowered:
        return True
    if _SSH_PUBLIC_PREFIX.match(stripped):
        return True
    if stripped.startswith(b"{") and b'"kty"' in stripped:
        return True
    candidates = [secret, stripped]
    if _BASE64_TEXT.match(stripped):
        compact = b"".join(stripped.split()).translate(_URL_TO_STD).rstrip(b"=")
        with contextlib.suppress(binascii.Error, ValueError):
            candidates.append(base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True))
    return any(_is_der_key(c) or _is_ssh_blob(c) for c in candidates)


def _is_ssh_blob(data: bytes) -> bool:
    """An OpenSSH public key blob: a 4-byte length, then the key type name (RFC 4253 §6.6)."""
    if len(data) < 8:
        return False
    size = int.from_bytes(data[:4], "big")
    return 0 < size <= 64 and _SSH_PUBLIC_PREFIX.match(data[4 : 4 + size]) is not None


def _is_der_key(data: bytes) -> bool:
    if not data.startswith(b"\x30"):
        return False
    from cryptography import x509  # here, not at the top: only DER-shaped secrets need it (import cost)

    loaders = (
        serialization.load_der_public_key,
        x509.load_der_x509_certificate,
        lambda d: serialization.load_der_private_key(d, password=None),
    )
    for load in loaders:
        try:
            load(data)
        except Exception:  # noqa: S112 - any failure means "not this encoding"
            continue
        return True
    return False
