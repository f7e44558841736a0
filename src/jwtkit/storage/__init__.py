"""Storage adapters for the ports of :mod:`jwtkit.auth.ports`: :mod:`.memory` (the reference),
:mod:`.sql` (SQLite, PostgreSQL), :mod:`.redis` (the shared rate limiter and revocation feed),
and the pieces they share (:mod:`.in_process`, :mod:`.polling`, :mod:`.backstop`,
:mod:`.reader_thread`). The adapters do not know each other: choosing and combining them is the
composition root's job (:func:`jwtkit.wiring.open_stores`).

``open_stores`` and ``in_process_database`` are still importable from here, resolved from
:mod:`jwtkit.wiring.stores` on first use, for code written before they moved.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["in_process_database", "open_stores"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("jwtkit.wiring.stores"), name)
    raise AttributeError(f"module 'jwtkit.storage' has no attribute {name!r}")
