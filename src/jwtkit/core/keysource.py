"""``KeySource``: keys that can change while a :class:`~jwtkit.Verifier` lives, such as an issuer's
published JWK Set. The core declares the protocol and stays pure; the JWKS clients that fetch
over the network (:class:`jwtkit.JWKSClient`) live outside it and implement it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .keyset import KeySet


@runtime_checkable
class KeySource(Protocol):
    """Where a verifier gets its :class:`KeySet` for each token.

    Both methods may block (a source may fetch) and may raise an error that is not a
    ``JWTError`` when no key set can be had: the verifier lets it through untouched.
    """

    def keyset(self) -> KeySet:
        """The key set to verify the next token with."""
        ...

    def keyset_for(self, kid: str) -> KeySet:
        """The key set to look ``kid`` up in after the current one lacked it: a newer set when
        the source may fetch again, else the current one (so the lookup fails fast)."""
        ...
