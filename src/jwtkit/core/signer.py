"""Signing compact JWS: a private key prepared for one algorithm, with the headers it signs under.

A :class:`PreparedSigner` is made once per key and algorithm (by :meth:`Key._signer`) and
kept: the signature function is keyed (HMAC context, padding object) and the encoded header
segments for the default headers are remembered, so the per-token path only serialises the
payload and signs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .algorithms import Signer
from .b64 import b64url_encode
from .codec import dumps

_RESERVED_SIGN_HEADERS = frozenset(("crit", "b64", "enc", "zip"))


def encode_header(alg: str, kid: str | None, headers: Mapping[str, Any] | None, typ: str | None) -> bytes:
    """The encoded header segment ``{"alg", "typ", "kid"}`` plus ``headers`` (``None`` removes a member).

    Raises:
        ValueError: ``headers`` name another ``alg`` or a header jwtkit does not support.
    """
    header: dict[str, Any] = {"alg": alg}
    if typ is not None:
        header["typ"] = typ
    if kid is not None:
        header["kid"] = kid
    if headers is not None:
        for name, value in headers.items():
            if name == "alg":
                if value != alg:
                    raise ValueError(f"the header alg comes from the key ({alg}); it cannot be {value!r}")
                continue
            if name in _RESERVED_SIGN_HEADERS:
                raise ValueError(f"header {name!r} is not supported by jwtkit")
            if value is None:
                header.pop(name, None)
            else:
                header[name] = value
    return b64url_encode(dumps(header))


class PreparedSigner:
    """A private key ready to sign with ``alg``; owns the cache of its default header segments.

    ``jwt_prefix`` is ``header_segment + b"."`` for the default JWT header: the encode fast path.
    """

    __slots__ = ("_segments", "alg", "jwt_prefix", "kid", "sign")

    def __init__(self, alg: str, kid: str | None, sign: Signer) -> None:
        self.alg = alg
        self.kid = kid
        self.sign = sign
        self._segments: dict[str | None, bytes] = {}
        self.jwt_prefix = self.header_segment("JWT") + b"."

    def header_segment(self, typ: str | None) -> bytes:
        """The encoded default header (``alg``, ``typ`` when given, ``kid`` when the key has one)."""
        segment = self._segments.get(typ)
        if segment is None:
            segment = self._segments[typ] = encode_header(self.alg, self.kid, None, typ)
        return segment
