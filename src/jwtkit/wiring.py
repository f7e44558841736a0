"""The composition root: settings → stores → service → app.

``ServerSettings`` is the one frozen configuration object of the server, built once at the edge
from ``JWTKIT_*`` environment variables and command-line flags (flags win). Nothing else in
jwtkit reads ``os.environ``.

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
=================================  ==================  ==========================================

``database_url`` may also be ``sqlite:///path``, ``postgresql://…`` (the async drivers are added)
or a plain file path (an SQLite file). ``memory://`` keeps everything in the process (tests, demos).

Example::

    settings = ServerSettings.from_env(port=9000)
    app = build_app(settings)        # uvicorn.run(app, host=settings.host, port=settings.port)
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from jwtkit.auth.settings import AuthSettings
from jwtkit.core.algorithms import SUPPORTED_ALGORITHMS

if TYPE_CHECKING:
    from fastapi import FastAPI

    from jwtkit.auth.service import AuthService

__all__ = ["DEFAULT_DATABASE_URL", "ENV_PREFIX", "ServerSettings", "app_from_env", "build_app",
           "key_protection", "normalize_database_url", "open_service", "polls_database", "prepare",
           "redacted", "redis_ping_interval", "run"]

ENV_PREFIX = "JWTKIT_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///jwtkit.sqlite3"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """Everything ``jwtkit serve`` needs, validated once. ``key_encryption_secret`` never prints.

    Raises:
        ValueError: an out-of-range port, a non-positive TTL or worker count, an unknown ``alg``.
    """

    database_url: str = DEFAULT_DATABASE_URL
    database_schema: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "jwtkit:"
    revocation_fail_open: bool = False
    revocation_max_staleness: float = 1.0
    revocation_poll_interval: float = 0.1
    host: str = "127.0.0.1"
    port: int = 8000
    access_ttl: int = 300
    refresh_ttl: int = 86400
    session_ttl: int = 1209600
    refresh_reuse_grace: float = 0.0
    issuer: str | None = None
    audience: str | None = None
    alg: str = "ES256"
    key_encryption_secret: bytes | None = field(default=None, repr=False)
    workers: int = 1
    access_log: bool = True
    forwarded_allow_ips: str | None = None
    cookie_secure: Literal["always", "auto", "never"] = "auto"
    cors_origins: tuple[str, ...] = ()
    register_max_per_client: int = 20
    ui: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_url", normalize_database_url(self.database_url))
        from jwtkit.web.origins import BrowserPolicy
        from jwtkit.web.proxy import TrustedProxies

        TrustedProxies.parse(self.forwarded_allow_ips)
        policy = BrowserPolicy(cookie_secure=self.cookie_secure, cors_origins=tuple(self.cors_origins))
        object.__setattr__(self, "cors_origins", policy.cors_origins)
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, got {self.port!r}")
        for name in ("access_ttl", "refresh_ttl", "session_ttl", "workers", "register_max_per_client"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.database_schema is not None and not self.database_url.startswith("postgresql"):
            raise ValueError("database_schema is for PostgreSQL only")
        if not self.redis_prefix:
            raise ValueError("redis_prefix must not be empty")
        if not isinstance(self.revocation_fail_open, bool):
            raise ValueError(f"revocation_fail_open must be a bool, got {self.revocation_fail_open!r}")
        staleness = self.revocation_max_staleness
        if isinstance(staleness, bool) or not isinstance(staleness, int | float) or not 0 < staleness < 1e9:
            raise ValueError(f"revocation_max_staleness must be a positive number of seconds, got {staleness!r}")
        grace = self.refresh_reuse_grace
        if isinstance(grace, bool) or not isinstance(grace, int | float) or not 0 <= grace < 1e9:
            raise ValueError(f"refresh_reuse_grace must be a number of seconds >= 0, got {grace!r}")
        interval = self.revocation_poll_interval
        if isinstance(interval, bool) or not isinstance(interval, int | float) or not 0 < interval < staleness:
            raise ValueError(f"revocation_poll_interval must be a positive number of seconds below "
                             f"revocation_max_staleness ({staleness!r}), got {interval!r}")
        from jwtkit.storage import in_process_database

        if self.workers > 1 and in_process_database(self.database_url):
            raise ValueError(f"workers > 1 need a shared database, not {self.database_url}")
        if self.alg not in SUPPORTED_ALGORITHMS or self.alg.startswith("HS"):
            raise ValueError(f"alg must be an asymmetric JWS algorithm (the public keys go to the JWKS), "
                             f"got {self.alg!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Settings from ``JWTKIT_*`` variables of ``environ`` (default: the process environment),
        then ``overrides`` (command-line flags; ``None`` values are ignored).

        Raises:
            ValueError: a variable that does not parse (its name is in the message).
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + spec.name.upper())
            if raw is not None and raw != "":
                values[spec.name] = _parse(spec.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def auth_settings(self) -> AuthSettings:
        """The service's settings (throttling and password rules keep their documented defaults)."""
        return AuthSettings(
            access_ttl=self.access_ttl, refresh_ttl=self.refresh_ttl, session_ttl=self.session_ttl,
            issuer=self.issuer, audience=self.audience, alg=self.alg,
            key_encryption_secret=self.key_encryption_secret, revocation_fail_open=self.revocation_fail_open,
            revocation_max_staleness=self.revocation_max_staleness, refresh_reuse_grace=self.refresh_reuse_grace,
            register_max_per_client=self.register_max_per_client,
        )

    def to_env(self) -> dict[str, str]:
        """These settings as ``JWTKIT_*`` variables (for worker processes started by uvicorn)."""
        env: dict[str, str] = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if isinstance(value, bytes):
                value = value.decode("utf-8", "surrogateescape")
            elif isinstance(value, tuple):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "1" if value else "0"
            env[ENV_PREFIX + spec.name.upper()] = str(value)
        return env


def _parse(name: str, raw: str) -> Any:
    var = ENV_PREFIX + name.upper()
    if name in ("port", "access_ttl", "refresh_ttl", "session_ttl", "workers", "register_max_per_client"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{var} must be an integer, got {raw!r}") from None
    if name in ("revocation_max_staleness", "revocation_poll_interval", "refresh_reuse_grace"):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{var} must be a number of seconds, got {raw!r}") from None
    if name in ("access_log", "revocation_fail_open", "ui"):
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


def normalize_database_url(url: str) -> str:
    """Add the async driver to ``sqlite://`` and ``postgresql://`` URLs; a plain path is an SQLite file."""
    if "://" not in url:
        return f"sqlite+aiosqlite:///{url}"
    scheme, rest = url.split("://", 1)
    scheme = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
              "postgres": "postgresql+asyncpg"}.get(scheme, scheme)
    return f"{scheme}://{rest}"


async def open_service(settings: ServerSettings) -> AuthService:
    """Open the stores behind ``settings.database_url`` and the service over them.

    Revocations and key rotations reach the other processes on the database (``--workers``, or
    servers started separately) through Redis when ``settings.redis_url`` is set, else by polling
    the database every ``settings.revocation_poll_interval`` seconds: a process cannot know that
    it is alone on a database file or server. Only ``memory://`` (one process by nature) does neither.

    Raises:
        ServiceUnavailableError: the database (or Redis) cannot be reached.
        ValueError: an unsupported database URL, or stored keys the secret cannot decrypt.
    """
    from jwtkit.auth.service import AuthService
    from jwtkit.storage import open_stores

    stores = await open_stores(settings.database_url, schema=settings.database_schema,
                               redis_url=settings.redis_url, redis_prefix=settings.redis_prefix,
                               poll_database=polls_database(settings),
                               poll_interval=settings.revocation_poll_interval,
                               redis_ping_interval=redis_ping_interval(settings))
    return await AuthService.open(settings.auth_settings(), stores)  # closes the stores if it fails


def polls_database(settings: ServerSettings) -> bool:
    """Whether revocations reach this process by polling the database (no Redis, a real database)."""
    from jwtkit.storage import in_process_database

    return settings.redis_url is None and not in_process_database(settings.database_url)


def redis_ping_interval(settings: ServerSettings) -> float:
    """How often the Redis feed confirms its connection: 0.25 s, or often enough for a tighter
    staleness bound (four confirmations per bound), so a healthy feed never looks stale."""
    return min(0.25, settings.revocation_max_staleness / 4)


async def prepare(settings: ServerSettings) -> None:
    """Open the database once before serving: create or upgrade the schema and the first signing
    key (so several workers do not race to), and fail here, with a clear line, if it cannot be reached."""
    service = await open_service(settings)
    await service.close()


def build_app(settings: ServerSettings, *, on_open: Callable[[], None] | None = None) -> FastAPI:
    """The HTTP app over the service ``settings`` describe (opened by the app's lifespan, which
    then calls ``on_open``)."""
    from jwtkit.web import create_app

    async def factory() -> AuthService:
        service = await open_service(settings)
        if on_open is not None:
            on_open()
        return service

    return create_app(factory, forwarded_allow_ips=settings.forwarded_allow_ips,
                      cookie_secure=settings.cookie_secure,
                      cors_origins=settings.cors_origins, ui=settings.ui)


def app_from_env() -> FastAPI:
    """``build_app(ServerSettings.from_env())``: the factory uvicorn's worker processes import."""
    return build_app(ServerSettings.from_env())


def key_protection(settings: ServerSettings) -> tuple[int, str]:
    """The log level and line that say, at start, how the private signing keys are protected:
    a warning when they sit unencrypted in a database that outlives the process."""
    import logging

    where = redacted(settings.database_url)
    if settings.database_url.startswith("memory:"):
        return logging.INFO, "signing keys: in this process's memory only (memory://), never written anywhere"
    if settings.key_encryption_secret is not None:
        return logging.INFO, (f"signing keys: encrypted at rest in {where} (AES-256-GCM, key derived from "
                              "JWTKIT_KEY_ENCRYPTION_SECRET)")
    return logging.WARNING, (f"signing keys are stored UNENCRYPTED (plain JWK) in {where}: whoever can read the "
                             "database or a backup of it can forge tokens for every user. Set "
                             "JWTKIT_KEY_ENCRYPTION_SECRET (32 random bytes) to encrypt them at rest")


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for logs and the startup line)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def run(settings: ServerSettings, *, announce: Callable[[str], None] = print) -> bool:
    """Serve the app with uvicorn until interrupted; ``announce`` gets the line saying where it listens.

    With one worker the socket is bound here first, so ``port=0`` picks a free port and the
    announced URL is the real one; the line comes once the service is open (the database reached,
    the key ring loaded). With ``workers > 1`` uvicorn binds the port and starts that many
    processes, each building its own service from these settings (passed as ``JWTKIT_*`` variables).
    Returns ``False`` when the app failed to start (uvicorn has logged why).

    Raises:
        OSError: the address cannot be bound.
    """
    import logging
    import socket
    import sys

    import uvicorn

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # the access log goes there: one line per request, now
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger(__name__).log(*key_protection(settings))
    from jwtkit.web.access_log import uvicorn_log_config

    options: dict[str, Any] = {
        "access_log": settings.access_log, "server_header": False, "log_level": "info", "lifespan": "on",
        # the app reads the proxy headers (--forwarded-allow-ips, jwtkit.web.proxy), uvicorn not at all
        "proxy_headers": False,
        # httptools with a cap on request heads (431), at httptools' speed (jwtkit.web.protocol)
        "http": "jwtkit.web.protocol:BoundedHttpToolsProtocol",
        "log_config": uvicorn_log_config(),  # the access log without query strings
    }
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    details = (f"database {redacted(settings.database_url)}, {settings.alg}, access {settings.access_ttl} s, "
               f"refresh {settings.refresh_ttl} s, {workers}")
    if settings.redis_url is not None:
        details += f", redis {redacted(settings.redis_url)}"
    elif polls_database(settings):
        details += f", revocations polled from the database every {settings.revocation_poll_interval:g} s"
    if settings.refresh_reuse_grace:
        details += f", refresh reuse grace {settings.refresh_reuse_grace:g} s"
    if settings.revocation_fail_open:
        details += ", revocation checks FAIL OPEN while the feed is stale"
    if settings.forwarded_allow_ips:
        details += f", proxy headers trusted from {settings.forwarded_allow_ips}"
    if settings.cors_origins:
        details += f", CORS for {' '.join(settings.cors_origins)}"
    from jwtkit.storage import in_process_database

    if not in_process_database(settings.database_url) and not _prepared(settings):
        return False
    if settings.workers > 1:
        os.environ.update(settings.to_env())  # the workers rebuild these settings in app_from_env
        announce(f"jwtkit serve: listening on {_url(settings.host, settings.port)} ({details})")
        uvicorn.run("jwtkit.wiring:app_from_env", factory=True, host=settings.host, port=settings.port,
                    workers=settings.workers, **options)
        return True
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        sock.listen(2048)
        url = _url(*sock.getsockname()[:2])
        app = build_app(settings, on_open=lambda: announce(f"jwtkit serve: listening on {url} ({details})"))
        server = uvicorn.Server(uvicorn.Config(app, **options))
        server.run(sockets=[sock])
        return server.started


def _prepared(settings: ServerSettings) -> bool:
    """Run :func:`prepare` before serving; on failure log one line that says why (not a traceback
    from inside the server's startup) and return False."""
    import asyncio
    import logging

    from jwtkit.auth.errors import ServiceUnavailableError
    from jwtkit.storage.sql import SchemaTooNewError, UsernameCollisionError

    log = logging.getLogger(__name__)
    try:
        asyncio.run(prepare(settings))
    except ServiceUnavailableError:
        log.error("cannot open the database %s%s: not starting", redacted(settings.database_url),
                  f" or Redis {redacted(settings.redis_url)}" if settings.redis_url else "")
        return False
    except (SchemaTooNewError, UsernameCollisionError, ValueError) as exc:
        log.error("cannot use the database %s: %s", redacted(settings.database_url), exc)
        return False
    return True


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
