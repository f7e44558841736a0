"""jwtkit: JSON Web Tokens for Python, strict by default and fast.

Example::

    import jwtkit

    key = jwtkit.Key.generate("ES256", kid="k1")
    token = jwtkit.encode({"user_id": 123, "token_type": "access", "exp": 1900000000}, key)
    verifier = jwtkit.Verifier(key.public_key(), algorithms=["ES256"], required=["exp"])
    claims = verifier.verify(token)

The safe API is what this module exports; :mod:`jwtkit.jws` is the raw JWS layer and
:mod:`jwtkit.errors` the error tree.
"""

from typing import TYPE_CHECKING, Any

from jwtkit import errors, jws
from jwtkit.core.algorithms import SUPPORTED_ALGORITHMS
from jwtkit.core.keys import Key
from jwtkit.core.keyset import KeySet
from jwtkit.core.tokens import Verifier, decode, decode_unverified, encode
from jwtkit.errors import (
    AlgorithmNotAllowedError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidKeyError,
    InvalidSignatureError,
    JWTError,
    KeyNotFoundError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
    UnsupportedHeaderError,
    WeakKeyError,
)

if TYPE_CHECKING:
    from jwtkit.jwks import AsyncJWKSClient, AsyncVerifier, JWKSClient, JWKSUnavailableError

__version__ = "0.1.0"

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "AlgorithmNotAllowedError",
    "AsyncJWKSClient",
    "AsyncVerifier",
    "ExpiredTokenError",
    "InvalidAudienceError",
    "InvalidClaimError",
    "InvalidIssuerError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "JWKSClient",
    "JWKSUnavailableError",
    "JWTError",
    "Key",
    "KeyNotFoundError",
    "KeySet",
    "MalformedTokenError",
    "MissingClaimError",
    "NotYetValidError",
    "UnsupportedHeaderError",
    "Verifier",
    "WeakKeyError",
    "__version__",
    "decode",
    "decode_unverified",
    "encode",
    "errors",
    "jws",
]

_JWKS_NAMES = frozenset(("AsyncJWKSClient", "AsyncVerifier", "JWKSClient", "JWKSUnavailableError"))


def __getattr__(name: str) -> Any:
    # The JWKS clients (HTTP, URL parsing, logging) load on first use: the CLI's keygen/encode/decode
    # and every `import jwtkit` that only signs and verifies stay as light as the core.
    if name in _JWKS_NAMES:
        from jwtkit import jwks

        return getattr(jwks, name)
    raise AttributeError(f"module 'jwtkit' has no attribute {name!r}")
