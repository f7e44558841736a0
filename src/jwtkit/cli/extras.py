"""Which ``pip install 'jwtkit[…]'`` extra supplies a module the command could not import.

``pip install jwtkit`` brings the token core only (``cryptography``); the server, PostgreSQL and
Redis live behind extras (``server``, ``postgres``, ``redis``, ``metrics``, ``all``). A command that needs a
missing one says which extra to install (exit status 2) instead of a ``ModuleNotFoundError``.
"""

from __future__ import annotations

# top-level module -> (extra, what needs it)
_EXTRA_OF_MODULE: dict[str, tuple[str, str]] = {
    "fastapi": ("server", "the server"),
    "starlette": ("server", "the server"),
    "pydantic": ("server", "the server"),
    "uvicorn": ("server", "the server"),
    "multipart": ("server", "the server"),
    "python_multipart": ("server", "the server"),
    "sqlalchemy": ("server", "the server"),
    "aiosqlite": ("server", "the server"),
    "argon2": ("server", "the server"),
    "asyncpg": ("postgres", "a PostgreSQL database"),
    "redis": ("redis", "--redis"),
    "prometheus_client": ("metrics", "--metrics"),
}


def missing_extra_message(exc: ModuleNotFoundError) -> str | None:
    """The advice for ``exc`` when an extra supplies the missing module, else ``None`` (a bug)."""
    top = (exc.name or "").partition(".")[0]
    found = _EXTRA_OF_MODULE.get(top)
    if found is None:
        return None
    extra, needs = found
    return f"{needs} needs the {extra} extra: pip install 'jwtkit[{extra}]' (module {top!r} is not installed)"
