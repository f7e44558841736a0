"""Base64url without padding (RFC 7515 §2, §Appendix C), decoded strictly.

Only the canonical encoding is accepted: the URL-safe alphabet, no ``=``, no white space,
no length of 1 mod 4, and zero bits in the unused low bits of the last character. A lenient
decoder lets one token be written many ways, which defeats denylists keyed by token text
(as PyJWT 2.12 and golang-jwt/jwt#502 learnt).
"""

from __future__ import annotations

import binascii

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STD = bytes.maketrans(b"-_", b"+/")
_TO_URL = bytes.maketrans(b"+/", b"-_")
# The last character of a segment whose length is 2 or 3 mod 4 carries 4 or 2 unused bits.
_CANONICAL_LAST = {
    2: frozenset(_ALPHABET[i] for i in range(0, 64, 16)),
    3: frozenset(_ALPHABET[i] for i in range(0, 64, 4)),
}
_PADDING = (b"", b"", b"==", b"=")


class Base64Error(ValueError):
    """Not canonical base64url; callers wrap it in a :class:`~jwtkit.errors.JWTError`."""


def b64url_encode(data: bytes) -> bytes:
    """Encode ``data`` as unpadded base64url."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=")


def b64url_decode(segment: bytes) -> bytes:
    """Decode canonical unpadded base64url, or raise :class:`Base64Error`."""
    rem = len(segment) % 4
    if rem == 1:
        raise Base64Error("impossible length")
    if segment.translate(None, _ALPHABET):
        raise Base64Error("character outside the base64url alphabet")
    if rem and segment[-1] not in _CANONICAL_LAST[rem]:
        raise Base64Error("non-canonical final character")
    return binascii.a2b_base64(segment.translate(_TO_STD) + _PADDING[rem], strict_mode=True)


def b64url_uint(value: int, length: int | None = None) -> str:
    """Encode a non-negative integer big-endian (RFC 7518 §2 Base64urlUInt)."""
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big")).decode("ascii")
