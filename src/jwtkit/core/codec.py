"""Total JSON parsing at one boundary: bytes in, a JSON object out, or a MalformedTokenError.

Header and payload must be UTF-8 JSON objects (RFC 7515 §5.2, RFC 7519 §7.2) with unique
member names. ``NaN``/``Infinity`` literals are refused; depth and size are bounded by the
caller's size cap and Python's recursion guard, both turned into a clean error here.
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from jwtkit.errors import MalformedTokenError

from .b64 import Base64Error, b64url_decode

_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError(f"duplicate member name {name!r}")
            seen.add(name)
    return obj


#: JSON nested deeper than this (arrays and objects) is refused, whatever the caller's stack.
MAX_JSON_DEPTH = 64
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_depth(text: str) -> None:
    # Fewer brackets than the limit cannot nest deeper: the common case costs two counts.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for match in _STRUCTURE.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested too deeply (more than {MAX_JSON_DEPTH} levels)")
        elif char in "]}":
            depth -= 1


_decoder = json.JSONDecoder(object_pairs_hook=_unique_object, parse_constant=_reject_constant)
_decode = _decoder.decode


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes; ``TypeError``/``ValueError`` for values JSON cannot hold."""
    return _dumps(obj).encode("utf-8")


def parse_json(text: str) -> Any:
    """Strict JSON (unique member names, no NaN/Infinity); ``ValueError``/``RecursionError`` otherwise."""
    _check_depth(text)
    return _decode(text)


def loads_object(raw: bytes, what: str) -> dict[str, Any]:
    """Parse ``raw`` as a UTF-8 JSON object; ``what`` names it in the error."""
    try:
        obj = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedTokenError(f"the {what} is not UTF-8") from exc
    except RecursionError as exc:
        raise MalformedTokenError(f"the {what} is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, duplicates, NaN, int digit limit
        raise MalformedTokenError(f"the {what} is not valid JSON: {exc}") from exc
    if type(obj) is not dict:
        raise MalformedTokenError(f"the {what} is JSON but not an object")
    return obj


def decode_segment(segment: bytes, what: str) -> bytes:
    """Strict base64url decode of one token segment, or a MalformedTokenError naming it."""
    try:
        return b64url_decode(segment)
    except (Base64Error, ValueError) as exc:
        raise MalformedTokenError(f"the {what} is not canonical base64url ({exc})") from exc
