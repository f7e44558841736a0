"""Build hostile tokens by hand: any header and payload bytes, any signature.

jwtkit's own ``encode`` refuses to make most of what an attacker sends (``alg: none``,
``crit``, duplicate members, lenient base64...), so the attack tests assemble tokens here
from raw pieces. Every helper works on bytes so a test controls the exact wire form.

Example::

    token = forge.signed({"alg": "HS256", "crit": ["exp"]}, {"sub": "x"}, key)
    token = forge.hmac_token({"alg": "HS256"}, {"sub": "x"}, secret=public_pem)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from jwtkit import Key
from jwtkit.jws import raw_signature

#: A header or payload: a JSON object (serialized compactly) or the exact bytes/text to send.
Part = Mapping[str, Any] | bytes | str

_HMAC_HASHES: dict[str, Callable[[], Any]] = {
    "HS256": hashlib.sha256,
    "HS384": hashlib.sha384,
    "HS512": hashlib.sha512,
}


def b64url(data: bytes | str) -> str:
    """Unpadded base64url of ``data`` (text is UTF-8 encoded first)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode_lenient(segment: str) -> bytes:
    """What a *lenient* decoder (the stdlib without validation) makes of ``segment``.

    Used as a control: a variant that this decodes to the original bytes is a real
    "same token, different text" variant, so refusing it is meaningful.
    """
    cleaned = segment.rstrip("=")
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


def part_bytes(part: Part) -> bytes:
    """The bytes of a header or payload: compact JSON for a mapping, else as given."""
    if isinstance(part, Mapping):
        return json.dumps(part, separators=(",", ":")).encode("utf-8")
    return part.encode("utf-8") if isinstance(part, str) else part


def signing_input(header: Part, payload: Part) -> str:
    """``b64url(header) + "." + b64url(payload)``, the bytes a JWS signature covers."""
    return f"{b64url(part_bytes(header))}.{b64url(part_bytes(payload))}"


def token(header: Part, payload: Part, signature: bytes = b"") -> str:
    """A compact token from raw pieces; the signature is whatever bytes the test wants."""
    return f"{signing_input(header, payload)}.{b64url(signature)}"


def hmac_token(header: Part, payload: Part, secret: bytes, alg: str = "HS256") -> str:
    """A token MACed with ``secret`` by the standard library, bypassing every jwtkit check.

    This is how the algorithm-confusion attacker signs: with the victim's *public* key
    bytes as the HMAC secret.
    """
    data = signing_input(header, payload)
    mac = hmac.new(secret, data.encode("ascii"), _HMAC_HASHES[alg]).digest()
    return f"{data}.{b64url(mac)}"


def signed(header: Part, payload: Part, key: Key, alg: str | None = None) -> str:
    """A token whose (possibly hostile) header and payload carry a *valid* signature by ``key``.

    ``alg`` defaults to the header's ``alg`` when the header is a mapping, else the key's.
    A test using this proves that a refusal comes from the header or payload rule under
    test, not from a broken signature.
    """
    if alg is None and isinstance(header, Mapping) and isinstance(header.get("alg"), str):
        alg = header["alg"]
    data = signing_input(header, payload)
    return f"{data}.{b64url(raw_signature(data.encode('ascii'), key, alg))}"


def replace_segment(tok: str, index: int, new: str) -> str:
    """``tok`` with segment ``index`` (0 header, 1 payload, 2 signature) replaced by ``new``."""
    parts = tok.split(".")
    parts[index] = new
    return ".".join(parts)


def segments(tok: str) -> tuple[str, str, str]:
    """The three segments of a compact JWS."""
    header, payload, signature = tok.split(".")
    return header, payload, signature
