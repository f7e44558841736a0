"""The ``JWTKIT_*`` environment variables: reading them into setting values and writing settings
back (for the worker processes uvicorn starts). The only place in jwtkit that reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ENV_PREFIX", "environment_value", "export_env", "read_env", "variable_name", "write_env"]

ENV_PREFIX = "JWTKIT_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_INTS = frozenset(("port", "access_ttl", "refresh_ttl", "session_ttl", "workers", "register_max_per_client"))
_SECONDS = frozenset(("revocation_max_staleness", "revocation_poll_interval", "refresh_reuse_grace"))
_FLAGS = frozenset(("access_log", "revocation_fail_open", "ui", "register", "metrics"))


def variable_name(setting: str) -> str:
    """The environment variable of ``setting``: ``port`` → ``JWTKIT_PORT``."""
    return ENV_PREFIX + setting.upper()


def read_env(settings: Iterable[str], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The values of ``settings`` set (non-empty) in ``environ`` (default: the process environment).

    Raises:
        ValueError: a variable that does not parse (its name is in the message).
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name in settings:
        raw = env.get(variable_name(name))
        if raw is not None and raw != "":
            values[name] = _parse(name, raw)
    return values


def write_env(values: Mapping[str, object]) -> dict[str, str]:
    """``values`` as ``JWTKIT_*`` variables that :func:`read_env` reads back (``None`` is left out)."""
    env: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "surrogateescape")
        elif isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "1" if value else "0"
        env[variable_name(name)] = str(value)
    return env


def _parse(name: str, raw: str) -> Any:
    var = variable_name(name)
    if name in _INTS:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{var} must be an integer, got {raw!r}") from None
    if name in _SECONDS:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{var} must be a number of seconds, got {raw!r}") from None
    if name in _FLAGS:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValueError(f"{var} must be 1/0, true/false, yes/no or on/off, got {raw!r}")
    if name == "key_encryption_secret":
        return raw.encode("utf-8", "surrogateescape")
    if name == "cors_origins":
        return tuple(origin.strip() for origin in raw.split(",") if origin.strip())
    return raw


def environment_value(name: str) -> str | None:
    """The process environment's ``name`` (for the few variables jwtkit honours that are not its own
    settings, e.g. ``PROMETHEUS_MULTIPROC_DIR``)."""
    return os.environ.get(name)


def export_env(variables: Mapping[str, str]) -> None:
    """Put ``variables`` in this process's environment, for the processes it starts (uvicorn's workers)."""
    os.environ.update(variables)
