"""JWKS clients: an issuer's published keys, fetched, cached and refreshed for verifiers.

Outside the pure core (they do I/O); the core's ``Verifier`` takes them through its
:class:`~jwtkit.core.keysource.KeySource` protocol.
"""

from .async_client import AsyncJWKSClient
from .async_verifier import AsyncVerifier
from .client import JWKSClient
from .errors import JWKSUnavailableError

__all__ = ["AsyncJWKSClient", "AsyncVerifier", "JWKSClient", "JWKSUnavailableError"]
