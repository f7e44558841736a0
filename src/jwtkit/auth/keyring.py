"""The signing-key ring: keys stored in the database (private JWK encrypted at rest with
AES-256-GCM under a key derived by HKDF-SHA256 from ``key_encryption_secret``), the active key,
the retired keys still published, and ONE prebuilt ``jwtkit.Verifier`` per ring version.

Refresh tokens are signed with HS256 under a key derived (HKDF-SHA256) from each asymmetric signing
key's private part, with the same ``kid``: only the server that issued a refresh token ever checks
it (RFC 6749 §1.5: it is never sent to a resource server), so it needs no public key, and an HS256
check and signature cost a few µs where ES256's cost ~100. The derived keys are never published;
every process holding the signing key derives the same one, so several servers need nothing new.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from jwtkit.core.b64 import b64url_decode
from jwtkit.core.keys import Key
from jwtkit.core.keyset import KeySet
from jwtkit.core.tokens import Verifier

from .models import SigningKeyRecord
from .settings import AuthSettings

log = logging.getLogger(__name__)

_HKDF_INFO = b"jwtkit signing-key encryption v1"
_REFRESH_KEY_INFO = b"jwtkit refresh-token HS256 key v1"
REFRESH_ALG = "HS256"
_PREFIX = "v1."
REQUIRED_CLAIMS = ("exp", "iat", "jti", "token_type", "fid", "user_id")


class KeyCipher:
    """Encrypts private JWKs at rest; ``kid`` is bound as associated data so rows cannot be swapped."""

    def __init__(self, secret: bytes | None) -> None:
        self._aead: AESGCM | None = None
        if secret is not None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret)
            self._aead = AESGCM(key)

    def seal(self, kid: str, private_jwk: str) -> tuple[str, bool]:
        if self._aead is None:
            return private_jwk, False
        nonce = secrets.token_bytes(12)
        blob = nonce + self._aead.encrypt(nonce, private_jwk.encode(), kid.encode())
        return _PREFIX + base64.urlsafe_b64encode(blob).decode("ascii"), True

    def open(self, record: SigningKeyRecord) -> str:
        if not record.encrypted:
            return record.private_jwk
        if self._aead is None:
            raise ValueError(f"signing key {record.kid} is encrypted; key_encryption_secret is needed to load it")
        try:
            blob = base64.urlsafe_b64decode(record.private_jwk.removeprefix(_PREFIX))
            return self._aead.decrypt(blob[:12], blob[12:], record.kid.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise ValueError(f"cannot decrypt signing key {record.kid}: wrong key_encryption_secret?") from exc


def new_signing_key(alg: str, cipher: KeyCipher, *, now: float) -> SigningKeyRecord:
    """Generate a key for ``alg`` and its (sealed) record."""
    kid = _new_kid()
    key = Key.generate(alg, kid=kid)
    sealed, encrypted = cipher.seal(kid, json.dumps(key.to_jwk(private=True)))
    if not encrypted:
        log.warning("storing signing key %s unencrypted: set a key encryption secret to encrypt keys at rest", kid)
    return SigningKeyRecord(kid=kid, alg=alg, private_jwk=sealed, encrypted=encrypted, created_at=now)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """An immutable snapshot of the keys: swap the whole object to change it."""

    active: Key
    published: tuple[tuple[Key, SigningKeyRecord], ...]  # public keys, active and retired-but-live
    verifier: Verifier
    refresh_signer: Key  # signs refresh tokens: derived from ``active``
    refresh_verifier: Verifier  # the derived keys of every live asymmetric key; HS256 only; no cache

    @classmethod
    def build(
        cls, records: list[SigningKeyRecord], cipher: KeyCipher, settings: AuthSettings, *, now: float
    ) -> KeyRing:
        """The ring of every live record; the newest unretired one signs.

        Raises:
            LookupError: no unretired key (the caller creates one).
            ValueError: a key cannot be decrypted.
        """
        live = [r for r in records if r.not_after is None or r.not_after > now]
        active_records = [r for r in live if r.retired_at is None]
        if not active_records:
            raise LookupError("no active signing key")
        newest = max(active_records, key=lambda r: (r.created_at, r.kid))
        private = {r.kid: Key.from_jwk(cipher.open(r)) for r in live}
        active = private[newest.kid]
        published = tuple((private[r.kid].public_key(), r) for r in live)
        refresh_keys = {kid: refresh_key_of(key) for kid, key in private.items()}
        verifier = Verifier(
            KeySet(key for key, _ in published),
            algorithms=sorted({record.alg for _, record in published}),
            issuer=settings.issuer,
            audience=settings.audience,
            required=REQUIRED_CLAIMS,
            cache_size=settings.verified_token_cache,
        )
        refresh_verifier = Verifier(  # each refresh token is spent once: nothing to cache
            KeySet(refresh_keys.values()),
            algorithms=[REFRESH_ALG],
            issuer=settings.issuer,
            audience=settings.audience,
            required=REQUIRED_CLAIMS,
        )
        return cls(active=active, published=published, verifier=verifier,
                   refresh_signer=refresh_keys[newest.kid], refresh_verifier=refresh_verifier)

    def jwks(self, *, now: float) -> dict[str, object]:
        return {
            "keys": [
                key.to_jwk() | {"use": "sig"}
                for key, record in self.published
                if record.not_after is None or record.not_after > now
            ]
        }


def refresh_key_of(key: Key) -> Key:
    """The HS256 key that signs and checks the refresh tokens of the (asymmetric) signing ``key``,
    with its ``kid``: HKDF-SHA256 of its private part (JWK ``d``)."""
    secret = b64url_decode(key.to_jwk(private=True)["d"].encode("ascii"))
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_REFRESH_KEY_INFO).derive(secret)
    return Key.from_secret(derived, alg=REFRESH_ALG, kid=key.kid)


def _new_kid() -> str:
    """A random key id that never starts with ``-`` (so ``jwtkit keys retire KID`` reads it as an
    argument, not an option): 16 base64url characters, 96 bits."""
    while True:
        kid = secrets.token_urlsafe(12)
        if not kid.startswith("-"):
            return kid
