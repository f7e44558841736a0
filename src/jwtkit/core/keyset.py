"""``KeySet``: an immutable JWK Set (RFC 7517 §5) with lookup by ``kid`` and ``alg``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jwtkit.errors import InvalidKeyError, KeyNotFoundError

from .algorithms import ALGORITHMS
from .jwk import load_json_document
from .keys import Key

_SIGNATURE_KTYS = frozenset(("oct", "RSA", "EC", "OKP"))


class KeySet:
    """An immutable set of keys, such as a server's published JWKS.

    A token's ``kid`` picks the key; a token without ``kid`` is accepted only when exactly
    one key of the set fits its ``alg``.

    Example::

        keys = KeySet.from_jwks(jwks_json)
        claims = jwtkit.decode(token, keys, algorithms=["ES256", "RS256"])
    """

    __slots__ = ("_by_kid", "_keys")

    def __init__(self, keys: Iterable[Key]) -> None:
        keys = tuple(keys)
        for key in keys:
            if not isinstance(key, Key):
                raise TypeError(f"KeySet holds Key objects, not {type(key).__name__}")
        by_kid: dict[str, list[Key]] = {}
        for key in keys:
            if key.kid is not None:
                by_kid.setdefault(key.kid, []).append(key)
        self._keys = keys
        self._by_kid = {kid: tuple(found) for kid, found in by_kid.items()}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | str | bytes) -> KeySet:
        """A key set from a JWKS document (dict or JSON text).

        Keys that are not for signatures (``use: enc``, an encryption ``alg``, an unknown
        ``kty``) are skipped, as RFC 7517 §5 allows; a malformed signature key is an error.

        Raises:
            InvalidKeyError: the document is not a JWKS, a signature key in it is malformed,
                or no usable signature key remains.
        """
        doc = load_json_document(jwks, "JWKS")
        members = doc.get("keys")
        if not isinstance(members, list):
            raise InvalidKeyError("a JWKS must have a 'keys' list", claim="keys")
        keys = [Key.from_jwk(jwk) for jwk in members if _is_signature_jwk(jwk)]
        if not keys:
            raise InvalidKeyError("the JWKS holds no usable signature key", claim="keys")
        return cls(keys)

    def to_jwks(self, private: bool = False) -> dict[str, Any]:
        """The set as a JWKS dict; private members only with ``private=True``.

        Raises:
            ValueError: ``private=False`` on a set holding an HMAC secret, which has no public form.
        """
        return {"keys": [key.to_jwk(private=private) for key in self._keys]}

    def get(self, kid: str) -> Key | None:
        """The key with this ``kid`` (the first, if several share it), or None."""
        found = self._by_kid.get(kid)
        return found[0] if found else None

    def find(self, kid: str | None, alg: str) -> Key:
        """The key a token with this ``kid`` and ``alg`` must be verified with.

        Raises:
            KeyNotFoundError: no key has the ``kid``, none of them fits ``alg``, or the token
                has no ``kid`` and not exactly one key fits ``alg``.
        """
        if kid is not None:
            candidates = self._by_kid.get(kid, ())
            if not candidates:
                raise KeyNotFoundError(f"no key with kid {kid!r:.80} in the key set", claim="kid")
        else:
            candidates = self._keys
        fitting = [key for key in candidates if key.fits(alg)]
        if len(fitting) == 1:
            return fitting[0]
        if not fitting:
            where = f"with kid {kid!r:.80}" if kid is not None else "in the set"
            raise KeyNotFoundError(f"no key {where} can verify {alg}", claim="kid")
        if kid is not None:
            raise KeyNotFoundError(f"{len(fitting)} keys share kid {kid!r:.80} and fit {alg}", claim="kid")
        raise KeyNotFoundError(f"the token has no kid and {len(fitting)} keys fit {alg}", claim="kid")

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, kid: object) -> bool:
        return kid in self._by_kid

    def __repr__(self) -> str:
        return f"KeySet({list(self._keys)!r})"


def _is_signature_jwk(jwk: Any) -> bool:
    if not isinstance(jwk, Mapping):
        raise InvalidKeyError("every member of a JWKS 'keys' list must be a JSON object", claim="keys")
    kty, alg = jwk.get("kty"), jwk.get("alg")
    if not isinstance(kty, str) or kty not in _SIGNATURE_KTYS or jwk.get("use", "sig") != "sig":
        return False
    if alg is not None and (not isinstance(alg, str) or alg not in ALGORITHMS):
        return False
    return not (jwk.get("kty") == "OKP" and jwk.get("crv") not in ("Ed25519", "Ed448"))
