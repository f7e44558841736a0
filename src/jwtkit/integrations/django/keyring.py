"""Signing and verifying keys: static ones from the settings, or a rotating ring in the database.

* ``HS256``/``HS384``/``HS512``: ``SIGNING_KEY`` (default ``SECRET_KEY``), as in Simple JWT.
* An asymmetric ``ALGORITHM`` with a PEM ``SIGNING_KEY``: that key signs, ``VERIFYING_KEY`` (or its
  public half) verifies; nothing rotates.
* An asymmetric ``ALGORITHM`` without ``SIGNING_KEY``: keys live in :class:`~.models.SigningKey`.
  The newest unretired key signs; retired ones verify until their ``verify_until``. The ring is
  re-read every ``KEY_RELOAD_INTERVAL`` seconds, and at once (at most once a second) when a token
  names a ``kid`` this process does not know yet, so a key rotated by another process is picked up
  before its first token arrives anywhere. The periodic re-read runs in a background thread: no
  request waits for it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone

from jwtkit import Key, KeySet

from .conf import JWTSettings

_UNKNOWN_KID_COOLDOWN = 1.0
logger = logging.getLogger("jwtkit.integrations.django")


@dataclass(frozen=True, slots=True)
class Keys:
    """What signs, what verifies, and what the JWKS view publishes."""

    signing: Key
    verifying: Key | KeySet
    published: tuple[dict[str, Any], ...]
    algorithms: tuple[str, ...]


def static_keys(settings: JWTSettings) -> Keys:
    """The keys named in the settings (HMAC, or PEM keys).

    Raises:
        JWTError: the key material cannot be used (too short a secret, not a PEM key).
    """
    if settings.hmac:
        key = Key.from_secret(settings.signing_key, alg=settings.algorithm)
        return Keys(key, key, (), (settings.algorithm,))
    signing = Key.from_pem(settings.signing_key, alg=settings.algorithm)
    verifying = Key.from_pem(settings.verifying_key, alg=settings.algorithm) if settings.verifying_key else None
    public = verifying or signing.public_key()
    kid = public.thumbprint()
    signing = Key.from_pem(signing.to_pem(private=True), alg=settings.algorithm, kid=kid)
    public = Key.from_pem(public.to_pem(), alg=settings.algorithm, kid=kid)
    return Keys(signing, public, (public.to_jwk(),), (settings.algorithm,))


def new_key(algorithm: str) -> Key:
    return Key.generate(algorithm, kid=secrets.token_urlsafe(12))


def create_signing_key(settings: JWTSettings) -> Key:
    """A new key in the ring; it signs from the next reload on. Older unretired keys are retired
    and keep verifying until every token they signed has expired."""
    from .models import SigningKey

    now = timezone.now()
    key = new_key(settings.algorithm)
    keep = timedelta(seconds=max(settings.access_lifetime, settings.refresh_lifetime) + settings.leeway)
    with transaction.atomic():
        SigningKey.objects.create(
            kid=key.kid, algorithm=settings.algorithm, private_jwk=json.dumps(key.to_jwk(private=True)), created_at=now
        )
        SigningKey.objects.filter(retired_at__isnull=True).exclude(kid=key.kid).update(
            retired_at=now, verify_until=now + keep
        )
    return key


def database_keys(settings: JWTSettings) -> Keys:
    """The ring as stored (creating the first key when there is none)."""
    from django.db.models import Q

    from .models import SigningKey

    now = timezone.now()
    rows = list(SigningKey.objects.filter(Q(verify_until__isnull=True) | Q(verify_until__gt=now)))
    if not any(row.retired_at is None for row in rows):
        create_signing_key(settings)
        rows = list(SigningKey.objects.filter(Q(verify_until__isnull=True) | Q(verify_until__gt=now)))
    keys = [Key.from_jwk(row.private_jwk) for row in rows]
    signing = next(key for row, key in zip(rows, keys, strict=True) if row.retired_at is None)  # newest first
    public = [key.public_key() for key in keys]
    return Keys(
        signing, KeySet(public), tuple(key.to_jwk() for key in public), tuple(sorted({row.algorithm for row in rows}))
    )


class KeyRing:
    """The process's current :class:`Keys`, re-read from the database when due."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: Keys | None = None
        self._loaded_at = 0.0
        self._settings: JWTSettings | None = None
        self._reloading = False

    def clear(self) -> None:
        with self._lock:
            self._keys = None

    def get(self, settings: JWTSettings) -> Keys:
        """The current keys; a due re-read of the ring runs in a background thread, not in the request."""
        keys = self._keys
        if keys is None or self._settings is not settings:
            return self.reload(settings)
        if settings.database_keys and time.monotonic() - self._loaded_at >= settings.key_reload_interval:
            self._reload_in_background(settings)
        return keys

    def _reload_in_background(self, settings: JWTSettings) -> None:
        with self._lock:
            if self._reloading:
                return
            self._reloading = True

        def run() -> None:
            try:
                self.reload(settings)
            except Exception:  # the ring as last read keeps working; the next request tries again
                logger.warning("jwtkit key ring: re-reading the signing keys failed", exc_info=True)
            finally:
                self._reloading = False
                close_old_connections()

        threading.Thread(target=run, name="jwtkit-keyring", daemon=True).start()

    def reload(self, settings: JWTSettings) -> Keys:
        with self._lock:
            keys = database_keys(settings) if settings.database_keys else static_keys(settings)
            self._keys, self._settings, self._loaded_at = keys, settings, time.monotonic()
            return keys

    def reload_for_unknown_kid(self, settings: JWTSettings) -> Keys | None:
        """Re-read the ring for a token whose ``kid`` we lack; None while cooling down."""
        if not settings.database_keys or time.monotonic() - self._loaded_at < _UNKNOWN_KID_COOLDOWN:
            return None
        return self.reload(settings)


keyring = KeyRing()
