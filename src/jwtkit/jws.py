"""The JWS layer (RFC 7515 compact serialization) for payloads that are not JWT claims.

.. warning::
   This is the lower layer: it checks the header and the signature, nothing else. For
   tokens carrying claims use :func:`jwtkit.encode`, :func:`jwtkit.decode` and
   :class:`jwtkit.Verifier`, which also check ``exp``, ``nbf``, ``aud``, ``iss``...

The header rules are the same as for JWT: ``alg`` from the key and in ``algorithms``,
never ``none``; ``crit``, JWE and embedded keys are refused or ignored.
"""

from __future__ import annotations

from jwtkit.core.jws import MAX_TOKEN_SIZE, raw_signature, sign, verify

__all__ = ["MAX_TOKEN_SIZE", "raw_signature", "sign", "verify"]
