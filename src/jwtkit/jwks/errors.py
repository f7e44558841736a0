"""``JWKSUnavailableError``: no usable key set could be had from the issuer.

Deliberately **not** a :class:`~jwtkit.JWTError`: the token is not at fault, the issuer (or
the network to it) is. Integrations answer it with 503 and ``Retry-After``, never with 401.
"""

from __future__ import annotations


class JWKSUnavailableError(Exception):
    """The JWKS endpoint gave no usable key set and no cached one is young enough to serve.

    Attributes:
        url: the JWKS URL.
        reason: why the last fetch failed, in words (never a key).
        retry_after: seconds until the client will try the endpoint again (at least 1).
    """

    code = "jwks_unavailable"

    def __init__(self, url: str, reason: str, *, retry_after: int) -> None:
        super().__init__(f"no usable JWK Set from {url}: {reason}")
        self.url = url
        self.reason = reason
        self.retry_after = retry_after
