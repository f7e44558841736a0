"""``create_app``: the auth server's FastAPI application, over one ``AuthService``.

The app is built once from a *service factory* (an async callable that opens the service); its
lifespan opens the service at startup, purges expired rows periodically, and closes it at
shutdown. The composition root (:mod:`jwtkit.wiring`) supplies the factory; tests supply
their own.

Example::

    async def open_service() -> AuthService:
        return await AuthService.open(AuthSettings(), await open_stores("memory://"))

    app = create_app(open_service)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from jwtkit.auth.service import AuthService

from . import sessions, tokens
from .deps import service_of
from .errors import install_error_handlers
from .limits import DEFAULT_MAX_BODY_SIZE, BodySizeLimit, checked_max_body_size

__all__ = ["DEFAULT_PURGE_INTERVAL", "ServiceFactory", "create_app"]

log = logging.getLogger("jwtkit.web")

ServiceFactory = Callable[[], Awaitable[AuthService]]
DEFAULT_PURGE_INTERVAL = 3600.0
"""Seconds between purges of expired refresh tokens, denylist entries, sessions and keys."""

meta = APIRouter(tags=["meta"])


@meta.get("/health")
async def health() -> dict[str, str]:
    """Liveness, no authentication, no storage: the framework's floor in the benchmark."""
    return {"status": "ok"}


@meta.get("/.well-known/jwks.json")
async def jwks(request: Request) -> JSONResponse:
    """The public keys that verify our tokens: the active one and retired ones still in use."""
    return JSONResponse(service_of(request).jwks(), headers={"Cache-Control": "public, max-age=60"})


def create_app(
    service_factory: ServiceFactory,
    *,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    purge_interval: float | None = DEFAULT_PURGE_INTERVAL,
) -> FastAPI:
    """The HTTP API of issue 3 over the service ``service_factory`` opens at startup.

    ``max_body_size`` (bytes, default 64 KiB) bounds request bodies (413 beyond);
    ``purge_interval`` (seconds, ``None`` for never) schedules ``service.purge_expired()``.
    """
    checked_max_body_size(max_body_size)
    if purge_interval is not None and not purge_interval > 0:
        raise ValueError(f"purge_interval must be positive or None, got {purge_interval!r}")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await service_factory()
        app.state.service = service
        purger = None if purge_interval is None else asyncio.create_task(_purge_every(service, purge_interval))
        try:
            yield
        finally:
            if purger is not None:
                purger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purger
            await service.close()

    from jwtkit import __version__

    app = FastAPI(title="jwtkit auth server", version=__version__, lifespan=lifespan,
                  description="Login, access/refresh JWTs with rotation and reuse detection, "
                              "revocation, JWKS, and cookie sessions for comparison.")
    install_error_handlers(app)
    app.include_router(meta)
    app.include_router(tokens.router)
    app.include_router(sessions.router)
    app.add_middleware(BodySizeLimit, max_body_size=max_body_size)
    return app


async def _purge_every(service: AuthService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            purged = await service.purge_expired()
        except Exception:  # a failed purge must not stop the next one
            log.exception("purging expired rows failed")
        else:
            log.info("purged %d expired rows", purged)


