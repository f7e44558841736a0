"""``jwtkit decode --jwks URL``: fetch a live server's key set with :class:`jwtkit.JWKSClient`, so
the command follows the library's rules for an issuer's keys: https, or plain http to a loopback
address only (a local dev server); no redirects; a time limit; a size cap; the document parsed as a
JWK Set, never trusted for anything but the keys.
"""

from __future__ import annotations

import logging

from jwtkit import JWKSClient, JWKSUnavailableError, KeySet

from .console import UsageError

#: A JWKS larger than this is refused (hundreds of keys fit).
MAX_JWKS_SIZE = 512 * 1024
JWKS_TIMEOUT = 10.0
_QUIET = logging.NullHandler()


def fetch_jwks(url: str, *, timeout: float = JWKS_TIMEOUT, max_size: int = MAX_JWKS_SIZE) -> KeySet:
    """The key set served at ``url``.

    Raises:
        UsageError: a URL that is not https (or http to loopback), a redirect, an HTTP error, a
            timeout, a document over ``max_size`` bytes, or one that is not a JWK Set.
    """
    try:
        client = JWKSClient(url, timeout=timeout, max_bytes=max_size)
    except ValueError as exc:
        raise UsageError(f"--jwks needs an https:// URL (plain http only to a loopback address): {exc}") from None
    # The command says what failed in its own one line on stderr; without a handler, the client's
    # warning would reach stderr too (Python's last-resort handler).
    logging.getLogger("jwtkit.jwks").addHandler(_QUIET)
    try:
        return client.keyset()
    except JWKSUnavailableError as exc:
        raise UsageError(f"cannot fetch the JWKS from {url[:200]}: {exc.reason}") from None
