"""``ServerSettings``: the one frozen configuration object of the server, built once at the edge
from ``JWTKIT_*`` environment variables and command-line flags (flags win).

The settings of the auth service are not repeated here: ``ServerSettings`` *contains* an
:class:`~jwtkit.auth.settings.AuthSettings` (``settings.auth``), which validates them. The server
exposes the part of it listed in :data:`AUTH_SETTINGS` (each with its variable and its flag);
the rest (throttling, password rules) keeps the service's documented defaults.

=================================  ==================  ==========================================
setting                            environment         default
=================================  ==================  ==========================================
``database_url``                   JWTKIT_DATABASE_URL  ``sqlite+aiosqlite:///jwtkit.sqlite3`` (cwd)
``database_schema``               JWTKIT_DATABASE_SCHEMA  none (PostgreSQL only: the schema of every table)
``redis_url``                      JWTKIT_REDIS_URL     none (revocation feed and login throttle in Redis)
``redis_prefix``                   JWTKIT_REDIS_PREFIX  ``jwtkit:`` (namespaces the Redis keys and channel)
``revocation_fail_open``           JWTKIT_REVOCATION_FAIL_OPEN  off (fail closed while revocations are stale)
``revocation_max_staleness``       JWTKIT_REVOCATION_MAX_STALENESS  ``1.0`` s (how stale before failing closed)
``revocation_poll_interval``       JWTKIT_REVOCATION_POLL_INTERVAL  ``0.1`` s (no Redis: how often to poll the DB)
``host`` / ``port``                JWTKIT_HOST / _PORT  ``127.0.0.1`` / ``8000``
``access_ttl`` / ``refresh_ttl``   JWTKIT_ACCESS_TTL …  ``300`` / ``86400`` seconds
``session_ttl``                    JWTKIT_SESSION_TTL   ``1209600`` seconds (two weeks)
``refresh_reuse_grace``            JWTKIT_REFRESH_REUSE_GRACE  ``0`` s (off; a refresh token spent again within
                                                       it gets the same rotated pair, not a revocation)
``issuer`` / ``audience``          JWTKIT_ISSUER …      none
``alg``                            JWTKIT_ALG           ``ES256``
``key_encryption_secret``          JWTKIT_KEY_ENCRYPTION_SECRET  none (keys stored unencrypted, with a warning)
``workers``                        JWTKIT_WORKERS       ``1``
``access_log``                     JWTKIT_ACCESS_LOG    on (one line per request, the path without its query)
``forwarded_allow_ips``            JWTKIT_FORWARDED_ALLOW_IPS  none (trust no proxy's forwarding headers)
``cookie_secure``                  JWTKIT_COOKIE_SECURE  ``auto`` (``Secure`` when the original scheme is https)
``cors_origins``                   JWTKIT_CORS_ORIGINS  none (comma-separated; CORS off)
``register_max_per_client``        JWTKIT_REGISTER_MAX_PER_CLIENT  ``20`` registrations per address per hour
``ui``                             JWTKIT_UI            on (the page at ``/``: token debugger, live flow)
``register``                       JWTKIT_REGISTER      on (public ``POST /auth/register``; off: 403, accounts
                                                       are made with ``jwtkit users create``)
``access_token_profile``           JWTKIT_ACCESS_TOKEN_PROFILE  ``simple`` (or ``rfc9068``: ``typ: at+jwt``, needs
                                                       ``issuer`` and ``audience``)
``access_token_client_id``         JWTKIT_ACCESS_TOKEN_CLIENT_ID  ``jwtkit`` (rfc9068: the ``client_id`` claim)
``access_token_scope``             JWTKIT_ACCESS_TOKEN_SCOPE  ``api`` (rfc9068: the ``scope`` claim)
``introspection_client_id``        JWTKIT_INTROSPECTION_CLIENT_ID  ``resource-server``
``introspection_client_secret``    JWTKIT_INTROSPECTION_CLIENT_SECRET  none (``POST /oauth/introspect`` off;
                                                       environment only, never printed)
``metrics``                        JWTKIT_METRICS       off (``GET /metrics``, Prometheus text format)
``log_format``                     JWTKIT_LOG_FORMAT    ``text`` (``json``: one JSON object per line)
=================================  ==================  ==========================================

``database_url`` may also be ``sqlite:///path``, ``postgresql://…`` (the async drivers are added)
or a plain file path (an SQLite file). ``memory://`` keeps everything in the process (tests, demos).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jwtkit.auth.settings import AuthSettings
from jwtkit.core.algorithms import SUPPORTED_ALGORITHMS

from .env import read_env, variable_name, write_env
from .stores import in_process_database

__all__ = ["AUTH_SETTINGS", "DEFAULT_DATABASE_URL", "ServerSettings", "normalize_database_url", "variable_names"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///jwtkit.sqlite3"
AUTH_SETTINGS = ("access_ttl", "refresh_ttl", "session_ttl", "refresh_reuse_grace", "issuer", "audience", "alg",
                 "key_encryption_secret", "revocation_fail_open", "revocation_max_staleness",
                 "register_max_per_client", "access_token_profile", "access_token_client_id", "access_token_scope",
                 "introspection_client_id", "introspection_client_secret")
"""The :class:`AuthSettings` fields the server takes as keywords, ``JWTKIT_*`` variables and flags."""


@dataclass(frozen=True, slots=True, init=False)
class ServerSettings:
    """Everything ``jwtkit serve`` needs, validated once. ``key_encryption_secret`` never prints.

    Takes the server's own fields and the :data:`AUTH_SETTINGS` as keywords (or a whole ``auth``,
    which those keywords then change); reads them back as attributes (``settings.access_ttl`` is
    ``settings.auth.access_ttl``).

    Example::

        settings = ServerSettings(database_url="memory://", port=9000, access_ttl=60)
        assert settings.auth.access_ttl == 60

    Raises:
        ValueError: an out-of-range port, a non-positive TTL or worker count, an unknown ``alg``.
        TypeError: a keyword that is not a setting.
    """

    database_url: str = DEFAULT_DATABASE_URL
    database_schema: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "jwtkit:"
    revocation_poll_interval: float = 0.1
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    access_log: bool = True
    forwarded_allow_ips: str | None = None
    cookie_secure: Literal["always", "auto", "never"] = "auto"
    cors_origins: tuple[str, ...] = ()
    ui: bool = True
    register: bool = True
    metrics: bool = False
    log_format: Literal["text", "json"] = "text"
    auth: AuthSettings = field(default_factory=AuthSettings)

    def __init__(self, *, auth: AuthSettings | None = None, **values: Any) -> None:
        own = _server_defaults()
        changes: dict[str, Any] = {}
        for name, value in values.items():
            if name in own:
                own[name] = value
            elif name in AUTH_SETTINGS:
                changes[name] = value
            else:
                raise TypeError(f"ServerSettings() got an unexpected keyword argument {name!r}")
        auth = dataclasses.replace(AuthSettings() if auth is None else auth, **changes)
        for name, value in own.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "auth", auth)
        self._validate()

    def __getattr__(self, name: str) -> Any:
        if name in AUTH_SETTINGS:
            return getattr(self.auth, name)
        raise AttributeError(f"'ServerSettings' object has no attribute {name!r}")

    def _validate(self) -> None:
        object.__setattr__(self, "database_url", normalize_database_url(self.database_url))
        from jwtkit.web.origins import BrowserPolicy
        from jwtkit.web.proxy import TrustedProxies

        TrustedProxies.parse(self.forwarded_allow_ips)
        policy = BrowserPolicy(cookie_secure=self.cookie_secure, cors_origins=tuple(self.cors_origins))
        object.__setattr__(self, "cors_origins", policy.cors_origins)
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, got {self.port!r}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be a positive int, got {self.workers!r}")
        if self.database_schema is not None and not self.database_url.startswith("postgresql"):
            raise ValueError("database_schema is for PostgreSQL only")
        if self.log_format not in ("text", "json"):
            raise ValueError(f"log_format must be text or json, got {self.log_format!r}")
        if not self.redis_prefix:
            raise ValueError("redis_prefix must not be empty")
        staleness = self.auth.revocation_max_staleness
        interval = self.revocation_poll_interval
        if isinstance(interval, bool) or not isinstance(interval, int | float) or not 0 < interval < staleness:
            raise ValueError(f"revocation_poll_interval must be a positive number of seconds below "
                             f"revocation_max_staleness ({staleness!r}), got {interval!r}")
        if self.workers > 1 and in_process_database(self.database_url):
            raise ValueError(f"workers > 1 need a shared database, not {self.database_url}")
        alg = self.auth.alg
        if alg not in SUPPORTED_ALGORITHMS or alg.startswith("HS"):
            raise ValueError(f"alg must be an asymmetric JWS algorithm (the public keys go to the JWKS), got {alg!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Settings from ``JWTKIT_*`` variables of ``environ`` (default: the process environment),
        then ``overrides`` (command-line flags; ``None`` values are ignored).

        Raises:
            ValueError: a variable that does not parse (its name is in the message).
        """
        values = read_env(_SETTINGS, environ)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def auth_settings(self) -> AuthSettings:
        """The service's settings (``self.auth``)."""
        return self.auth

    def to_env(self) -> dict[str, str]:
        """These settings as ``JWTKIT_*`` variables (for worker processes started by uvicorn)."""
        return write_env({name: getattr(self, name) for name in _SETTINGS})


def _server_defaults() -> dict[str, Any]:
    """The server's own settings (every field but ``auth``) and their defaults."""
    return {spec.name: spec.default for spec in dataclasses.fields(ServerSettings) if spec.name != "auth"}


_SETTINGS = (*_server_defaults(), *AUTH_SETTINGS)


def variable_names() -> list[str]:
    """The ``JWTKIT_*`` variable of every setting ``jwtkit serve`` reads."""
    return [variable_name(name) for name in _SETTINGS]


def normalize_database_url(url: str) -> str:
    """Add the async driver to ``sqlite://`` and ``postgresql://`` URLs; a plain path is an SQLite file."""
    if "://" not in url:
        return f"sqlite+aiosqlite:///{url}"
    scheme, rest = url.split("://", 1)
    scheme = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
              "postgres": "postgresql+asyncpg"}.get(scheme, scheme)
    return f"{scheme}://{rest}"
