"""Settings in, objects out: the stores, the service and the HTTP app ``ServerSettings`` describe.

Example::

    settings = ServerSettings.from_env(port=9000)
    app = build_app(settings)        # `jwtkit serve` runs it (jwtkit.cli.server)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .settings import ServerSettings
from .stores import in_process_database, open_stores

if TYPE_CHECKING:
    from fastapi import FastAPI

    from jwtkit.auth.events import AuthEvents
    from jwtkit.auth.service import AuthService

__all__ = ["app_from_env", "build_app", "key_protection", "open_service", "polls_database", "prepare",
           "redacted", "redis_ping_interval"]


async def open_service(settings: ServerSettings, *, events: AuthEvents | None = None) -> AuthService:
    """Open the stores behind ``settings.database_url`` and the service over them.

    Revocations and key rotations reach the other processes on the database (``--workers``, or
    servers started separately) through Redis when ``settings.redis_url`` is set, else by polling
    the database every ``settings.revocation_poll_interval`` seconds: a process cannot know that
    it is alone on a database file or server. Only ``memory://`` (one process by nature) does neither.
    ``events`` hears of logins, refreshes and revocations (the metrics and the event log).

    Raises:
        ServiceUnavailableError: the database (or Redis) cannot be reached.
        ValueError: an unsupported database URL, or stored keys the secret cannot decrypt.
    """
    from jwtkit.auth.service import AuthService

    stores = await open_stores(settings.database_url, schema=settings.database_schema,
                               redis_url=settings.redis_url, redis_prefix=settings.redis_prefix,
                               poll_database=polls_database(settings),
                               poll_interval=settings.revocation_poll_interval,
                               redis_ping_interval=redis_ping_interval(settings))
    if events is None:
        return await AuthService.open(settings.auth, stores)  # closes the stores if it fails
    return await AuthService.open(settings.auth, stores, events=events)


def polls_database(settings: ServerSettings) -> bool:
    """Whether revocations reach this process by polling the database (no Redis, a real database)."""
    return settings.redis_url is None and not in_process_database(settings.database_url)


def redis_ping_interval(settings: ServerSettings) -> float:
    """How often the Redis feed confirms its connection: 0.25 s, or often enough for a tighter
    staleness bound (four confirmations per bound), so a healthy feed never looks stale."""
    return min(0.25, settings.auth.revocation_max_staleness / 4)


async def prepare(settings: ServerSettings) -> None:
    """Open the database once before serving: create or upgrade the schema and the first signing
    key (so several workers do not race to), and fail here, with a clear line, if it cannot be reached."""
    service = await open_service(settings)
    await service.close()


def build_app(settings: ServerSettings, *, on_open: Callable[[], None] | None = None) -> FastAPI:
    """The HTTP app over the service ``settings`` describe (opened by the app's lifespan, which
    then calls ``on_open``)."""
    from jwtkit.web import create_app
    from jwtkit.web.event_log import LoggedEvents

    metrics = None
    if settings.metrics:
        from jwtkit.web.metrics import Metrics

        metrics = Metrics(multiprocess=settings.workers > 1)  # several workers: prometheus' multiprocess mode
    events = LoggedEvents() if metrics is None else LoggedEvents(metrics)

    async def factory() -> AuthService:
        service = await open_service(settings, events=events)
        if on_open is not None:
            on_open()
        return service

    return create_app(factory, forwarded_allow_ips=settings.forwarded_allow_ips,
                      cookie_secure=settings.cookie_secure,
                      cors_origins=settings.cors_origins, ui=settings.ui, registration=settings.register,
                      metrics=metrics, feed_check="revocation_feed" if settings.redis_url is None else "redis")


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
    if settings.auth.key_encryption_secret is not None:
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
