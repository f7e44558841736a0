"""``create_app``: the auth server's FastAPI application, over one ``AuthService``.

The app is built once from a *service factory* (an async callable that opens the service); its
lifespan opens the service at startup, starts the service's maintenance (purging expired rows,
resynchronising revocations and keys), and closes it at shutdown. The composition root
(:mod:`jwtkit.wiring`) supplies the factory; tests supply their own.

Example::

    async def open_service() -> AuthService:
        return await AuthService.open(AuthSettings(), await open_stores("memory://"))

    app = create_app(open_service)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from jwtkit.auth.service import AuthService

from . import sessions, tokens
from .deps import service_of
from .errors import install_error_handlers
from .limits import DEFAULT_MAX_BODY_SIZE, BodySizeLimit, checked_max_body_size
from .page import page_router

__all__ = ["DEFAULT_MAINTENANCE_INTERVAL", "ServiceFactory", "create_app"]

ServiceFactory = Callable[[], Awaitable[AuthService]]
DEFAULT_MAINTENANCE_INTERVAL = 60.0
"""Seconds between maintenance rounds: purge expired refresh tokens, denylist entries, sessions and
keys; reload the denylist and key ring from the database (``AuthService.run_maintenance``)."""

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
    maintenance_interval: float | None = DEFAULT_MAINTENANCE_INTERVAL,
    ui: bool = True,
) -> FastAPI:
    """The HTTP API of issue 3 over the service ``service_factory`` opens at startup.

    ``max_body_size`` (bytes, default 64 KiB) bounds request bodies (413 beyond);
    ``maintenance_interval`` (seconds, ``None`` for never) paces ``service.start_maintenance``;
    ``ui`` serves the page at ``/`` (the token debugger and the flow, live; :mod:`jwtkit.web.page`).
    """
    checked_max_body_size(max_body_size)
    if maintenance_interval is not None and not maintenance_interval > 0:
        raise ValueError(f"maintenance_interval must be positive or None, got {maintenance_interval!r}")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await service_factory()
        app.state.service = service
        try:
            if maintenance_interval is not None:
                service.start_maintenance(interval=maintenance_interval)  # stopped by close()
            yield
        finally:
            await service.close()

    from jwtkit import __version__

    app = FastAPI(title="jwtkit auth server", version=__version__, lifespan=lifespan,
                  description="Login, access/refresh JWTs with rotation and reuse detection, "
                              "revocation, JWKS, and cookie sessions for comparison.")
    install_error_handlers(app)
    app.include_router(meta)
    app.include_router(tokens.router)
    app.include_router(sessions.router)
    if ui:
        app.include_router(page_router())
    app.add_middleware(BodySizeLimit, max_body_size=max_body_size)
    return app
