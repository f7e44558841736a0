"""``AsyncJWKSClient``: :class:`~jwtkit.JWKSClient` for asyncio, on ``httpx`` (the
``jwtkit[jwks-async]`` extra). The event loop never waits on the network: the fetch is
streamed by httpx, and tasks that miss the cache together await one fetch (single-flight).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jwtkit.core.keyset import KeySet

from .cache import KeySetCache
from .client import USER_AGENT
from .errors import JWKSUnavailableError
from .source import FetchError, check_options, check_url, keyset_of, max_age_of, too_large

if TYPE_CHECKING:  # asyncio is imported by the first call (it is loaded then): `import jwtkit` stays light
    import asyncio
    import ssl


class AsyncJWKSClient:
    """An issuer's JWK Set for async code: the options and rules of :class:`jwtkit.JWKSClient`,
    with ``await client.keyset()``. Give it to :class:`jwtkit.AsyncVerifier`.

    Example::

        keys = jwtkit.AsyncJWKSClient("https://auth.example/.well-known/jwks.json")
        verifier = jwtkit.AsyncVerifier(keys, algorithms=["ES256"])
        claims = await verifier.verify(token)

    Raises:
        ImportError: ``httpx`` is not installed (``pip install 'jwtkit[jwks-async]'``).
        ValueError, TypeError: a URL or an option that is not allowed (when built).
        JWKSUnavailableError: from :meth:`keyset` when no key set can be had.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        cache_ttl: float = 300,
        cooldown: float = 30,
        max_stale: float = 86400,
        max_bytes: int = 65536,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - the extra is installed in the test environment
            raise ImportError("AsyncJWKSClient needs httpx: pip install 'jwtkit[jwks-async]'") from exc
        self._httpx: Any = httpx
        self._endpoint = check_url(url)
        self._options = check_options(timeout=timeout, cache_ttl=cache_ttl, cooldown=cooldown,
                                      max_stale=max_stale, max_bytes=max_bytes)
        self._clock = clock
        self._cache = KeySetCache(url, self._options)
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._tls: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return self._endpoint.url

    async def keyset(self) -> KeySet:
        """The current key set (see :meth:`jwtkit.JWKSClient.keyset`).

        Raises:
            JWKSUnavailableError: no usable key set.
        """
        fresh = self._cache.fresh(self._clock())
        if fresh is not None:
            return fresh
        return await self._fetch(None)

    async def keyset_for(self, kid: str) -> KeySet:
        """The set to look up a ``kid`` the current set lacks (see :meth:`jwtkit.JWKSClient.keyset_for`).

        Raises:
            JWKSUnavailableError: no usable key set.
        """
        return await self._fetch(kid)

    def _fresh_keyset(self) -> KeySet | None:
        """The cached set while it is fresh, else None: :meth:`keyset`'s hot path without a coroutine
        (:class:`AsyncVerifier` awaits :meth:`keyset` only when this says None)."""
        return self._cache.fresh(self._clock())

    def cached(self) -> KeySet:
        """The cached set, fresh or within ``max_stale``, without any I/O.

        Raises:
            JWKSUnavailableError: none yet, or too old.
        """
        return self._cache.usable(self._clock())

    async def _fetch(self, kid: str | None) -> KeySet:
        cache = self._cache
        generation = cache.generation
        lock = self._lock()
        if kid is None and lock.locked():  # a refresh is under way: the set it replaces serves meanwhile
            with contextlib.suppress(JWKSUnavailableError):
                return cache.usable(self._clock())
        async with lock:
            if cache.generation == generation and cache.begin(self._clock(), kid):
                try:
                    keyset, max_age = await self._get()
                except FetchError as exc:
                    cache.failed(str(exc), self._clock())
                else:
                    cache.succeeded(keyset, max_age, self._clock())
                    return keyset
            return cache.usable(self._clock())

    def _lock(self) -> asyncio.Lock:
        # One lock per event loop: an asyncio.Lock belongs to the loop that first waits on it.
        import asyncio

        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            for old in [old for old in self._locks if old.is_closed()]:
                del self._locks[old]
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def _get(self) -> tuple[KeySet, float | None]:
        import asyncio

        httpx, endpoint, options = self._httpx, self._endpoint, self._options
        try:
            async with asyncio.timeout(options.timeout), httpx.AsyncClient(
                timeout=options.timeout, follow_redirects=False, trust_env=False,
                verify=self._tls_context() if endpoint.https else True,
            ) as client, client.stream("GET", endpoint.url, headers={
                "Accept": "application/jwk-set+json, application/json", "Accept-Encoding": "identity",
                "User-Agent": USER_AGENT}) as response:
                headers = {name.lower(): value for name, value in response.headers.items()}
                body = b""
                if response.status_code == 200:
                    body = await _read_capped(response, headers, options.max_bytes)
                return keyset_of(response.status_code, headers, body), max_age_of(headers)
        except TimeoutError:
            raise FetchError("timed out") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc!s:.200}" if str(exc) else type(exc).__name__) from None

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            import ssl

            self._tls = ssl.create_default_context()
        return self._tls

    def __repr__(self) -> str:
        return f"AsyncJWKSClient({self._endpoint.url!r})"


async def _read_capped(response: Any, headers: dict[str, str], max_bytes: int) -> bytes:
    length = headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)
