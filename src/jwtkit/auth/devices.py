"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): proof that a
client has logged in as a user before, so that lockouts aimed at the user (or at a busy address)
do not refuse its owner.

A cookie is issued after every successful login. It names the user (``username_key``), a random
nonce and its issue time, and carries an HMAC-SHA256 over them with a key all workers share:
derived (HKDF) from a secret stored once in the database (``KeyStore.server_secret``) and, when
configured, the key-encryption secret (so the database alone cannot mint cookies). The nonce is
what the throttle counts a trusted client's failures on (:mod:`.throttling`).

Format: ``v1.<base64url username_key>.<nonce>.<issued at>.<base64url mac>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["DEVICE_SECRET_NAME", "DeviceCookies", "device_key"]

DEVICE_SECRET_NAME = "device-cookie"
MAX_COOKIE_LENGTH = 1024
_NONCE = re.compile(r"[A-Za-z0-9_\-]{22}")  # secrets.token_urlsafe(16)
_VERSION = "v1"
_CLOCK_SKEW = 60  # seconds a worker's clock may lag the issuer's


def device_key(stored_secret: bytes, key_encryption_secret: bytes | None) -> bytes:
    """The HMAC key: HKDF-SHA256 of the stored secret, salted with the key-encryption secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=key_encryption_secret,
                info=b"jwtkit device cookie v1")
    return hkdf.derive(stored_secret)


class DeviceCookies:
    """Issue and check device cookies with one shared key."""

    def __init__(self, key: bytes, *, ttl: int) -> None:
        self._key = key
        self._ttl = ttl

    def issue(self, username_key: str, *, now: float) -> str:
        name = _b64(username_key.encode("utf-8", "surrogatepass"))
        body = f"{_VERSION}.{name}.{secrets.token_urlsafe(16)}.{int(now)}"
        return f"{body}.{self._mac(body)}"

    def nonce(self, cookie: object, username_key: str, *, now: float) -> str | None:
        """The nonce of ``cookie`` when it is one of ours, for ``username_key``, and not older
        than the TTL; ``None`` for anything else (forged, foreign, expired, garbage)."""
        if not isinstance(cookie, str) or len(cookie) > MAX_COOKIE_LENGTH or cookie.count(".") != 4:
            return None
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(body).encode("ascii")):
            return None
        version, name, nonce, issued = body.split(".")
        if version != _VERSION or _NONCE.fullmatch(nonce) is None or not issued.isascii() or not issued.isdigit():
            return None
        try:
            named = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode("utf-8", "surrogatepass")
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(named.encode("utf-8", "surrogatepass"),
                                   username_key.encode("utf-8", "surrogatepass")):
            return None  # a cookie of another user: no bypass for this one
        if not int(issued) - _CLOCK_SKEW <= now < int(issued) + self._ttl:
            return None
        return nonce

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
