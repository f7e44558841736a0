"""Where a JWKS may come from, and what counts as one: the URL rules (https only, except
loopback for development) and the checks on a response (200, a size cap, JSON, a JWK Set),
shared by the sync and the async client. No I/O here."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from jwtkit.core.codec import parse_json
from jwtkit.core.keyset import KeySet
from jwtkit.errors import InvalidKeyError

_LOOPBACK_NAMES = frozenset(("localhost",))
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:,|$)", re.IGNORECASE)


class FetchError(Exception):
    """A fetch that gave no usable key set; the message says why (for the log and the 503)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A checked JWKS URL, split for the HTTP client."""

    url: str
    https: bool
    host: str
    port: int
    target: str  # path and query, as sent in the request line


@dataclass(frozen=True, slots=True)
class Options:
    """The client options, checked once when the client is built."""

    timeout: float
    cache_ttl: float
    cooldown: float
    max_stale: float
    max_bytes: int


def check_options(*, timeout: float, cache_ttl: float, cooldown: float, max_stale: float, max_bytes: int) -> Options:
    """The options, or a ValueError/TypeError naming the bad one."""
    for name, value, least in (("timeout", timeout, 0.0), ("cache_ttl", cache_ttl, 0.0),
                               ("cooldown", cooldown, 0.0), ("max_stale", max_stale, 0.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
        if not least <= value < float("inf") or (name == "timeout" and value == 0):
            raise ValueError(f"{name} must be a finite number of seconds{' above 0' if name == 'timeout' else ''}")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 64:
        raise ValueError("max_bytes must be an integer of at least 64")
    return Options(float(timeout), float(cache_ttl), float(cooldown), float(max_stale), max_bytes)


def check_url(url: str) -> Endpoint:
    """The endpoint of ``url``: ``https://``, or ``http://`` to a loopback host only.

    Raises:
        ValueError: another scheme, a non-loopback ``http://`` host, credentials or a fragment.
    """
    if not isinstance(url, str):
        raise TypeError(f"the JWKS URL must be a string, not {type(url).__name__}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a usable JWKS URL {url!r:.200}: {exc}") from None
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"the JWKS URL must be https://HOST/...; got {url!r:.200}")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError(f"the JWKS URL must use https:// (http:// only to a loopback host); got {url!r:.200}")
    if parts.username is not None or parts.password is not None or parts.fragment:
        raise ValueError(f"the JWKS URL must not hold credentials or a fragment; got {url!r:.200}")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise ValueError("the JWKS URL must not contain spaces or control characters")
    https = parts.scheme == "https"
    return Endpoint(url, https, host, port or (443 if https else 80), _target(parts))


def _target(parts: SplitResult) -> str:
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def keyset_of(status: int, headers: Mapping[str, str], body: bytes) -> KeySet:
    """The key set in a complete response whose body is within the cap.

    Raises:
        FetchError: not a 200, not JSON, or not a JWK Set with a usable signature key.
    """
    if status != 200:
        if 300 <= status < 400:
            raise FetchError(f"HTTP {status} redirect to {headers.get('location', '?')!r:.200} (not followed)")
        raise FetchError(f"HTTP {status}")
    try:
        doc = parse_json(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        content_type = headers.get("content-type", "no content type")
        raise FetchError(f"the body ({content_type:.60}) is not JSON: {exc!s:.120}") from None
    if not isinstance(doc, dict):
        raise FetchError("the body is JSON but not a JWK Set object")
    try:
        return KeySet.from_jwks(doc)
    except (InvalidKeyError, TypeError, ValueError) as exc:
        raise FetchError(f"not a usable JWK Set: {exc!s:.200}") from None


def max_age_of(headers: Mapping[str, str]) -> float | None:
    """``Cache-Control: max-age`` in seconds (``no-cache``/``no-store``: 0), or None."""
    value = headers.get("cache-control")
    if not value:
        return None
    if _NO_CACHE.search(value):
        return 0.0
    match = _MAX_AGE.search(value)
    return float(match.group(1)) if match else None


def too_large(max_bytes: int) -> FetchError:
    return FetchError(f"the body is larger than max_bytes ({max_bytes} bytes)")
