"""The errors jwtkit raises for bad tokens and bad key material.

Every failure caused by *input* (a token string, a JWK or JWKS document, key bytes) is a
:class:`JWTError`. Misuse of the API (a wrong argument type, an empty ``algorithms``
list) raises ``TypeError``/``ValueError`` when the call or the ``Verifier`` is made.

The tree::

    JWTError                      code
    ├── MalformedTokenError       "malformed_token"     not three base64url segments of JSON
    ├── UnsupportedHeaderError    "unsupported_header"  crit, JWE, b64, ... we do not implement
    ├── AlgorithmNotAllowedError  "algorithm_not_allowed"
    ├── KeyNotFoundError          "key_not_found"       no key in the set fits kid/alg
    ├── InvalidSignatureError     "invalid_signature"
    ├── ExpiredTokenError         "expired_token"       exp is past
    ├── NotYetValidError          "not_yet_valid"       nbf or iat is in the future
    ├── InvalidAudienceError      "invalid_audience"
    ├── InvalidIssuerError        "invalid_issuer"
    ├── MissingClaimError         "missing_claim"
    ├── InvalidClaimError         "invalid_claim"       a claim of the wrong type or value
    └── InvalidKeyError           "invalid_key"         key material that cannot be used
        └── WeakKeyError          "weak_key"            too short a secret, too small an RSA key

Each error carries a stable ``code``, and where it applies the ``claim`` (or header
parameter) at fault and the ``reason`` in words. Messages never contain key material.
"""

from __future__ import annotations

__all__ = [
    "AlgorithmNotAllowedError",
    "ExpiredTokenError",
    "InvalidAudienceError",
    "InvalidClaimError",
    "InvalidIssuerError",
    "InvalidKeyError",
    "InvalidSignatureError",
    "JWTError",
    "KeyNotFoundError",
    "MalformedTokenError",
    "MissingClaimError",
    "NotYetValidError",
    "UnsupportedHeaderError",
    "WeakKeyError",
]


class JWTError(Exception):
    """The root of every error jwtkit raises for untrusted input.

    Attributes:
        code: a stable, machine-readable name for the failure (e.g. ``"expired_token"``).
        claim: the claim or header parameter at fault, when there is one.
        reason: the message, in words a person can act on.
    """

    code: str = "invalid_token"

    def __init__(self, reason: str, *, claim: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.claim = claim


class MalformedTokenError(JWTError):
    """The token is not a compact JWS of three base64url segments holding JSON objects."""

    code = "malformed_token"


class UnsupportedHeaderError(JWTError):
    """The header asks for something jwtkit does not implement (``crit``, JWE, ...)."""

    code = "unsupported_header"


class AlgorithmNotAllowedError(JWTError):
    """The header ``alg`` is not in ``algorithms``, is ``none``, or does not fit the key."""

    code = "algorithm_not_allowed"


class KeyNotFoundError(JWTError):
    """No key of the key set fits the token's ``kid`` and ``alg``."""

    code = "key_not_found"


class InvalidSignatureError(JWTError):
    """The signature does not verify: the header, payload or signature was changed."""

    code = "invalid_signature"


class ExpiredTokenError(JWTError):
    """The ``exp`` claim is in the past (beyond ``leeway``)."""

    code = "expired_token"


class NotYetValidError(JWTError):
    """The ``nbf`` claim, or ``iat``, is in the future (beyond ``leeway``)."""

    code = "not_yet_valid"


class InvalidAudienceError(JWTError):
    """The ``aud`` claim does not name the expected audience, or names one nobody expected."""

    code = "invalid_audience"


class InvalidIssuerError(JWTError):
    """The ``iss`` claim is not the expected issuer."""

    code = "invalid_issuer"


class MissingClaimError(JWTError):
    """A required claim is absent."""

    code = "missing_claim"


class InvalidClaimError(JWTError):
    """A claim has the wrong type or an impossible value (``exp: true``, ``exp: 1e400``)."""

    code = "invalid_claim"


class InvalidKeyError(JWTError):
    """Key material (PEM, JWK, JWKS, secret) that cannot be used for signatures."""

    code = "invalid_key"


class WeakKeyError(InvalidKeyError):
    """A key too weak for its algorithm: an HMAC secret shorter than the hash, RSA < 2048 bits."""

    code = "weak_key"
