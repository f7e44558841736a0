"""The token backend: jwtkit's ``encode`` and a prepared ``Verifier``, rebuilt when the keys change."""

from __future__ import annotations

import threading
from typing import Any

from jwtkit import ExpiredTokenError, KeyNotFoundError, Verifier, encode
from jwtkit.errors import JWTError

from . import exceptions
from .conf import JWTSettings, jwt_settings, on_settings_change
from .keyring import Keys, keyring

_VERIFIER_CACHE = 4096  # tokens whose signature is remembered (a client sends one token many times)


class TokenBackend:
    """Signs and verifies with one :class:`~.keyring.Keys`; raises Simple JWT's ``TokenError``."""

    def __init__(self, settings: JWTSettings, keys: Keys) -> None:
        self.settings = settings
        self.keys = keys
        self.verifier = Verifier(
            keys.verifying,
            algorithms=keys.algorithms,
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway,
            cache_size=_VERIFIER_CACHE,
        )

    def encode(self, payload: dict[str, Any]) -> str:
        claims = dict(payload)
        if self.settings.audience is not None:
            claims["aud"] = (
                list(self.settings.audience) if isinstance(self.settings.audience, tuple) else (self.settings.audience)
            )
        if self.settings.issuer is not None:
            claims["iss"] = self.settings.issuer
        return encode(claims, self.keys.signing)

    def decode(self, token: str | bytes) -> dict[str, Any]:
        try:
            return self.verifier.verify(token)
        except ExpiredTokenError as exc:
            raise exceptions.ExpiredTokenError("Token is expired") from exc
        except JWTError as exc:
            raise exceptions.TokenError("Token is invalid") from exc


_lock = threading.Lock()
_current: TokenBackend | None = None


def get_backend() -> TokenBackend:
    """The process's backend for the current settings and keys."""
    global _current
    settings = jwt_settings()
    keys = keyring.get(settings)
    backend = _current
    if backend is None or backend.keys is not keys or backend.settings is not settings:
        with _lock:
            backend = _current = TokenBackend(settings, keys)
    return backend


def decode(token: str | bytes) -> dict[str, Any]:
    """Verify ``token`` with the current keys; a ``kid`` we lack re-reads the key ring once."""
    backend = get_backend()
    try:
        return backend.decode(token)
    except exceptions.TokenError as exc:
        if not isinstance(exc.__cause__, KeyNotFoundError):
            raise
        if keyring.reload_for_unknown_kid(backend.settings) is None:
            raise
    return get_backend().decode(token)


def _reset() -> None:
    global _current
    _current = None
    keyring.clear()


on_settings_change(_reset)
