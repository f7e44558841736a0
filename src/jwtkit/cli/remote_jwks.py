"""``jwtkit decode --jwks URL``: fetch a live server's key set with the standard library.

One small function on purpose: the JWKS client of the library (``jwtkit.JWKSClient``, with its
cache and cool-downs) can replace it. The rules are those of a careful JWKS client: https, or
plain http to a loopback address only (a local dev server); no redirects; a time limit; a size
cap; the document parsed as a JWK Set, never trusted for anything but the keys.
"""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NoReturn

from jwtkit import InvalidKeyError, KeySet

from .console import UsageError

#: A JWKS larger than this is refused (hundreds of keys fit).
MAX_JWKS_SIZE = 512 * 1024
JWKS_TIMEOUT = 10.0


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> NoReturn:
        raise UsageError(f"the JWKS URL redirects (HTTP {code}) to {newurl[:200]}; give the final URL")


def fetch_jwks(url: str, *, timeout: float = JWKS_TIMEOUT, max_size: int = MAX_JWKS_SIZE) -> KeySet:
    """The key set served at ``url``.

    Raises:
        UsageError: a URL that is not https (or http to loopback), a redirect, an HTTP error, a
            timeout, a document over ``max_size`` bytes, or one that is not a JWK Set.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"--jwks needs an https:// URL, not {url[:200]!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UsageError("--jwks needs https:// (plain http only to a loopback address, e.g. a local server)")
    opener = urllib.request.build_opener(_NoRedirects())
    request = urllib.request.Request(url, headers={"Accept": "application/jwk-set+json, application/json"})  # noqa: S310 - scheme checked above
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(max_size + 1)
    except urllib.error.HTTPError as exc:
        raise UsageError(f"cannot fetch the JWKS from {url[:200]}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(f"cannot fetch the JWKS from {url[:200]}: {reason}") from None
    if len(body) > max_size:
        raise UsageError(f"the JWKS at {url[:200]} is larger than {max_size} bytes")
    try:
        return KeySet.from_jwks(body)  # bounded, strict JSON parsing
    except InvalidKeyError as exc:
        raise UsageError(f"{url[:200]} did not answer a usable JWK Set: {exc.reason}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
