"""What the CLI prints and how: colour, JSON rendering, times in human terms, usage errors.

Token contents are untrusted: every string shown on the terminal goes through
:func:`safe_json_string`, so a claim cannot smuggle escape sequences (colours, cursor moves,
window titles) or bidirectional overrides into the user's terminal.
"""

from __future__ import annotations

import json
import math
import os
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

# Control, format (bidi overrides, zero-width), line/paragraph separators, surrogates, private use.
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))


EXIT_INVALID_TOKEN = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line or the files it names (exit status ``EXIT_USAGE``), not with a token."""


@dataclass(frozen=True, slots=True)
class Palette:
    """ANSI styles, or plain text when colour is off."""

    enabled: bool

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def heading(self, text: str) -> str:
        return self._paint("1", text)

    def key(self, text: str) -> str:
        return self._paint("34", text)

    def string(self, text: str) -> str:
        return self._paint("32", text)

    def number(self, text: str) -> str:
        return self._paint("36", text)

    def literal(self, text: str) -> str:
        return self._paint("35", text)

    def dim(self, text: str) -> str:
        return self._paint("2", text)

    def good(self, text: str) -> str:
        return self._paint("1;32", text)

    def warn(self, text: str) -> str:
        return self._paint("1;33", text)


def palette_for(stream: TextIO) -> Palette:
    """Colour only for a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return Palette(enabled=bool(isatty and isatty()) and not os.environ.get("NO_COLOR"))


def safe_json_string(value: str) -> str:
    """``value`` as a JSON string literal with every non-printing character escaped."""
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(json.dumps(ch)[1:-1] if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text)


def render_json(value: Any, palette: Palette, level: int = 0) -> str:
    """Pretty JSON (two-space indent), coloured by type, with unsafe characters escaped."""
    pad, close = "  " * (level + 1), "  " * level
    if isinstance(value, dict):
        if not value:
            return "{}"
        members = [
            f"{pad}{palette.key(safe_json_string(str(name)))}: {render_json(item, palette, level + 1)}"
            for name, item in value.items()
        ]
        return "{\n" + ",\n".join(members) + "\n" + close + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(pad + render_json(item, palette, level + 1) for item in value) + "\n" + close + "]"
    if isinstance(value, str):
        return palette.string(safe_json_string(value))
    if value is None or isinstance(value, bool):
        return palette.literal(json.dumps(value))
    return palette.number(json.dumps(value))


def human_span(seconds: float) -> str:
    """A duration in one rounded unit: ``"45 s"``, ``"4 min"``, ``"2 h"``, ``"3 days"``."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} days"


def describe_time(name: str, value: Any, now: float) -> tuple[str, str]:
    """The date of a time claim and its meaning relative to ``now``.

    ``("2026-07-13 10:15:00 UTC", "expires in 4 min")``; a value that is not a NumericDate
    is reported as such rather than guessed at.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "not a NumericDate", f"found {safe_json_string(str(value))[:42]}"
    try:
        when = datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return "out of range", "not a usable date"
    delta = value - now
    future = delta > 0
    span = human_span(delta)
    if name == "exp":
        return when, f"expires in {span}" if future else f"expired {span} ago"
    if name == "nbf":
        return when, f"not valid for another {span}" if future else f"valid since {span} ago"
    return when, f"issued {span} in the future" if future else f"issued {span} ago"
