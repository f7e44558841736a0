"""``JWKSClient``: an issuer's JWK Set over HTTPS, cached, for :class:`jwtkit.Verifier`.

Standard library HTTP only (``http.client``): no redirects, no proxies, the body read in
chunks up to ``max_bytes`` and never whole, one deadline for the whole fetch. Threads that miss
the cache together share one fetch (a lock, and the cache's generation to tell a waiter that
the fetch it waited for has happened); while a refresh of an expired set is under way, the
expired set keeps serving the other threads instead of making them wait.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from jwtkit.core.keyset import KeySet

from .cache import KeySetCache
from .errors import JWKSUnavailableError
from .source import Endpoint, FetchError, check_options, check_url, keyset_of, max_age_of, too_large

if TYPE_CHECKING:  # imported when the first fetch runs: `import jwtkit` stays light
    import http.client
    import ssl

_CHUNK = 16 * 1024
USER_AGENT = "jwtkit-jwks"


class JWKSClient:
    """An issuer's JWK Set, fetched on first use and cached; pass it to :class:`jwtkit.Verifier`.

    Args:
        url: the JWKS URL. ``https://`` only, except ``http://`` to a loopback host
            (``127.0.0.1``, ``::1``, ``localhost``) for development.
        timeout: seconds for one whole fetch (connect, request, body).
        cache_ttl: seconds a fetched set is used before it is fetched again; a shorter
            ``Cache-Control: max-age`` from the server wins (but never below ``cooldown``).
        cooldown: a token whose ``kid`` the set lacks makes the client fetch again at most once
            per ``cooldown`` seconds (other unknown kids fail at once with ``KeyNotFoundError``),
            and a failed endpoint is tried again only after ``cooldown`` seconds.
        max_stale: when fetches fail, the last good set keeps serving until it is this many
            seconds old (one warning per failure streak on the ``jwtkit.jwks`` logger).
        max_bytes: a larger body is refused (read up to the cap, never whole).
        clock: a monotonic clock in seconds; for tests.

    Example::

        keys = jwtkit.JWKSClient("https://auth.example/.well-known/jwks.json")
        verifier = jwtkit.Verifier(keys, algorithms=["ES256"], issuer="https://auth.example")
        claims = verifier.verify(token)

    Raises:
        ValueError, TypeError: a URL or an option that is not allowed (when built).
        JWKSUnavailableError: from :meth:`keyset` (and so from ``Verifier.verify``) when no key
            set can be had: not a ``JWTError``, the token is not at fault.
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
        self._endpoint = check_url(url)
        self._options = check_options(timeout=timeout, cache_ttl=cache_ttl, cooldown=cooldown,
                                      max_stale=max_stale, max_bytes=max_bytes)
        self._clock = clock
        self._cache = KeySetCache(url, self._options)
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return self._endpoint.url

    def keyset(self) -> KeySet:
        """The current key set: the cached one while fresh, else fetched (or, when the fetch
        fails, the last good one up to ``max_stale`` seconds old).

        Raises:
            JWKSUnavailableError: no usable key set.
        """
        fresh = self._cache.fresh(self._clock())
        if fresh is not None:
            return fresh
        return self._fetch(None)

    def keyset_for(self, kid: str) -> KeySet:
        """The set to look up a ``kid`` the current set lacks: fetched again unless a fetch for
        an unknown kid happened less than ``cooldown`` seconds ago (then the current set).

        Raises:
            JWKSUnavailableError: no usable key set.
        """
        return self._fetch(kid)

    def _fetch(self, kid: str | None) -> KeySet:
        cache = self._cache
        generation = cache.generation
        if kid is None and self._lock.locked():  # a refresh is under way: the set it replaces serves meanwhile
            with contextlib.suppress(JWKSUnavailableError):
                return cache.usable(self._clock())
        with self._lock:
            now = self._clock()
            if cache.generation == generation and cache.begin(now, kid):
                try:
                    keyset, max_age = self._get()
                except FetchError as exc:
                    cache.failed(str(exc), self._clock())
                else:
                    cache.succeeded(keyset, max_age, self._clock())
                    return keyset
            return cache.usable(self._clock())

    def _get(self) -> tuple[KeySet, float | None]:
        import http.client

        endpoint, options = self._endpoint, self._options
        deadline = time.monotonic() + options.timeout
        connection: http.client.HTTPConnection
        if endpoint.https:
            connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=options.timeout,
                                                     context=self._tls_context())
        else:
            connection = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=options.timeout)
        try:
            connection.request("GET", endpoint.target, headers={
                "Accept": "application/jwk-set+json, application/json", "Accept-Encoding": "identity",
                "User-Agent": USER_AGENT, "Connection": "close"})
            response = connection.getresponse()
            headers = {name.lower(): value for name, value in response.getheaders()}
            body = _read_capped(connection, response, options.max_bytes, deadline) if response.status == 200 else b""
            return keyset_of(response.status, headers, body), max_age_of(headers)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(_describe(exc, endpoint)) from None
        finally:
            connection.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            import ssl

            self._tls = ssl.create_default_context()
        return self._tls

    def __repr__(self) -> str:
        return f"JWKSClient({self._endpoint.url!r})"


def _read_capped(
    connection: http.client.HTTPConnection, response: http.client.HTTPResponse, max_bytes: int, deadline: float
) -> bytes:
    length = response.getheader("content-length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the fetch took longer than the timeout")
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
        chunk = response.read1(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)


def _describe(exc: BaseException, endpoint: Endpoint) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out ({exc})" if str(exc) else "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {endpoint.host}:{endpoint.port}"
    return f"{type(exc).__name__}: {exc!s:.200}" if str(exc) else type(exc).__name__
