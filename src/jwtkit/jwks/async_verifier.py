"""``AsyncVerifier``: ``await verifier.verify(token)`` with keys from an :class:`AsyncJWKSClient`
(or fixed keys). The signature check is the core :class:`~jwtkit.Verifier`'s, run on the
client's cached set; only a fetch awaits, so the event loop never waits on the network."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from jwtkit.core.codec import decode_segment, loads_object
from jwtkit.core.jws import MAX_TOKEN_SIZE, split_token
from jwtkit.core.keys import Key
from jwtkit.core.keyset import KeySet
from jwtkit.core.tokens import Verifier
from jwtkit.errors import JWTError, KeyNotFoundError

from .async_client import AsyncJWKSClient


class _Cached:
    """The core's KeySource view of an async client: its cached set, no I/O. ``current`` is the set
    :meth:`AsyncVerifier.verify` has just had from the client (None: ask the client), so the core's
    per-verify ``keyset()`` costs no second clock read and lookup on the cache-hit path."""

    __slots__ = ("_client", "current")

    def __init__(self, client: AsyncJWKSClient) -> None:
        self._client = client
        self.current: KeySet | None = None

    def keyset(self) -> KeySet:
        current = self.current
        return current if current is not None else self._client.cached()

    def keyset_for(self, kid: str) -> KeySet:
        return self._client.cached()


class AsyncVerifier:
    """A :class:`jwtkit.Verifier` for async code, with the same options.

    Args:
        async_client_or_key: an :class:`AsyncJWKSClient`, or a fixed :class:`Key` / :class:`KeySet`.
        the others: as for :class:`jwtkit.Verifier` (``cache_size`` included: the cache holds
            tokens verified with the client's current key set only).

    Example::

        verifier = jwtkit.AsyncVerifier(jwtkit.AsyncJWKSClient(jwks_url), algorithms=["ES256"])
        claims = await verifier.verify(token)

    Raises:
        TypeError, ValueError: on misuse, when the verifier is built.
    """

    __slots__ = ("_client", "_keys", "_max_size", "_verifier")

    def __init__(
        self,
        async_client_or_key: AsyncJWKSClient | Key | KeySet,
        *,
        algorithms: Iterable[str],
        audience: str | Iterable[str] | None = None,
        issuer: str | Iterable[str] | None = None,
        leeway: float | timedelta = 0,
        required: Iterable[str] = (),
        typ: str | None = None,
        max_token_size: int = MAX_TOKEN_SIZE,
        cache_size: int = 0,
    ) -> None:
        if isinstance(async_client_or_key, AsyncJWKSClient):
            self._client: AsyncJWKSClient | None = async_client_or_key
            keys: Key | KeySet | _Cached = _Cached(async_client_or_key)
        elif isinstance(async_client_or_key, Key | KeySet):
            self._client, keys = None, async_client_or_key
        else:
            raise TypeError(f"AsyncVerifier takes an AsyncJWKSClient, Key or KeySet, "
                            f"not {type(async_client_or_key).__name__}")
        self._keys = keys if isinstance(keys, _Cached) else None
        self._verifier = Verifier(keys, algorithms=algorithms, audience=audience, issuer=issuer, leeway=leeway,
                                  required=required, typ=typ, max_token_size=max_token_size, cache_size=cache_size)
        self._max_size = max_token_size

    async def verify(self, token: str | bytes, *, now: float | None = None) -> dict[str, Any]:
        """Verify ``token`` and return its claims (``now``: a Unix timestamp, for tests).

        Raises:
            JWTError: a subclass naming what is wrong with the token.
            JWKSUnavailableError: no key set can be had (not the token's fault).
        """
        client = self._client
        if client is None:
            return self._verifier.verify(token, now=now)
        keyset = client._fresh_keyset()  # its own package's hot path: no coroutine while the set is fresh
        if keyset is None:
            keyset = await client.keyset()
        keys = self._keys
        assert keys is not None
        keys.current = keyset  # what the core's keyset() answers during this (synchronous) verify
        try:
            return self._verifier.verify(token, now=now)
        except KeyNotFoundError:
            keys.current = None  # from here on the client's cache, which keyset_for may refresh
            kid = self._kid_of(token)
            if kid is None or kid in keyset or kid not in await client.keyset_for(kid):
                raise
        return self._verifier.verify(token, now=now)

    def _kid_of(self, token: str | bytes) -> str | None:
        try:
            header = loads_object(decode_segment(split_token(token, self._max_size)[0], "header"), "header")
        except JWTError:
            return None
        kid = header.get("kid")
        return kid if isinstance(kid, str) else None

    def __repr__(self) -> str:
        return f"AsyncVerifier({self._client!r})" if self._client is not None else "AsyncVerifier(<fixed keys>)"
