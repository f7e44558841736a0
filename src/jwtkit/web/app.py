"""``create_app``: the auth server's FastAPI application, over one ``AuthService``.

The app is built once from a *service factory* (an async callable that opens the service); its
lifespan opens the service at startup, starts the service's maintenance (purging expired rows,
resynchronising revocations and keys), and closes it at shutdown. The composition root
(:mod:`jwtkit.wiring`) supplies the factory; tests supply their own.

Example::

    async def open_service() -> AuthService:
        return await AuthService.open(AuthSettings(), open_memory_stores())

    app = create_app(open_service)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from jwtkit.auth.service import AuthService

from . import docs, oauth, password, sessions, tokens
from .deps import service_of
from .direct import DirectRoutes, direct_routes
from .errors import install_error_handlers
from .headers import SecurityHeaders
from .limits import DEFAULT_MAX_BODY_SIZE, BodySizeLimit, checked_max_body_size
from .openapi import install_openapi
from .origins import BrowserPolicy, CookieSecure, add_cors
from .page import page_router
from .proxy import ForwardedHeaders, TrustedProxies
from .readiness import readiness_router
from .registration import close_registration
from .request_id import RequestId

if TYPE_CHECKING:
    from .metrics import Metrics

__all__ = ["DEFAULT_MAINTENANCE_INTERVAL", "ServiceFactory", "create_app"]

ServiceFactory = Callable[[], Awaitable[AuthService]]
DEFAULT_MAINTENANCE_INTERVAL = 60.0
"""Seconds between maintenance rounds: purge expired refresh tokens, denylist entries, sessions and
keys; reload the denylist and key ring from the database (``AuthService.run_maintenance``)."""

# The first router of the route table holds the floor and the hot paths, /health, /auth/me, /session/me,
# then the refresh:
# FastAPI tries a request against its included routers in order, and each router passed costs
# ~3-5 µs of CPU (benchmarks/profile_auth_me.py), as much as a third of what /auth/me adds to /health.
# The three after /health are ``RequestRoute``s (.deps), served ahead of FastAPI's router (.direct); a
# dependency added here would give them FastAPI's router and request handler back, and their cost.
liveness = APIRouter()
meta = APIRouter(tags=["meta"])


@liveness.get("/health", tags=["meta"], operation_id="health", summary="Liveness")
async def health() -> dict[str, str]:
    """Liveness, no authentication, no storage: the framework's floor in the benchmark."""
    return {"status": "ok"}


tokens.add_me(liveness)
sessions.add_me(liveness)
tokens.add_refresh(liveness)


@meta.get("/.well-known/jwks.json", operation_id="jwks", summary="The public keys that verify our tokens")
async def jwks(request: Request) -> JSONResponse:
    """The public keys that verify our tokens: the active one and retired ones still in use."""
    return JSONResponse(service_of(request).jwks(), headers={"Cache-Control": "public, max-age=60"})


def create_app(
    service_factory: ServiceFactory,
    *,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    maintenance_interval: float | None = DEFAULT_MAINTENANCE_INTERVAL,
    forwarded_allow_ips: str | None = None,
    cookie_secure: CookieSecure = "auto",
    cors_origins: Sequence[str] = (),
    ui: bool = True,
    registration: bool = True,
    metrics: Metrics | None = None,
    feed_check: str = "revocation_feed",
) -> FastAPI:
    """The HTTP API over the service ``service_factory`` opens at startup.

    ``max_body_size`` (bytes, default 64 KiB) bounds request bodies (413 beyond);
    ``maintenance_interval`` (seconds, ``None`` for never) paces ``service.start_maintenance``;
    ``forwarded_allow_ips`` (``"10.0.0.1,10.1.0.0/16"``, ``"*"``; default nobody) names the reverse
    proxies whose ``Forwarded``/``X-Forwarded-*`` headers are believed (:mod:`.proxy`);
    ``cookie_secure`` and ``cors_origins`` are the browser policy of :mod:`.origins`.
    ``ui`` serves the page at ``/`` (the token debugger and the flow, live; :mod:`jwtkit.web.page`).
    ``registration=False`` closes ``POST /auth/register`` (403 ``registration_closed``; :mod:`.registration`).
    ``metrics`` (:class:`~jwtkit.web.metrics.Metrics`, also the service's events observer) serves
    ``GET /metrics`` and counts every request; ``None`` (the default) adds nothing at all.
    ``feed_check`` names the revocation feed's part of ``GET /health/ready`` (``"redis"`` with Redis).
    Every response carries ``X-Request-ID`` (:mod:`.request_id`).

    Raises:
        ValueError: a bad size, interval, proxy address, ``cookie_secure`` or origin.
    """
    checked_max_body_size(max_body_size)
    trusted = TrustedProxies.parse(forwarded_allow_ips)
    browser = BrowserPolicy(cookie_secure=cookie_secure, cors_origins=tuple(cors_origins))
    if maintenance_interval is not None and not maintenance_interval > 0:
        raise ValueError(f"maintenance_interval must be positive or None, got {maintenance_interval!r}")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await service_factory()
        app.state.service = service
        try:
            if maintenance_interval is not None:
                service.start_maintenance(interval=maintenance_interval)  # stopped by close()
            if metrics is None:
                yield
            else:
                async with metrics.watching(service):
                    yield
        finally:
            await service.close()

    from jwtkit import __version__

    app = FastAPI(title="jwtkit auth server", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,  # /docs is served offline by .docs
                  description="Login, access/refresh JWTs with rotation and reuse detection, "
                              "revocation, JWKS, and cookie sessions for comparison. Every error is "
                              "`{error, message}`; a request head over 64 KiB or 100 fields is refused "
                              "with 431 before it reaches an endpoint.")
    app.state.browser = browser
    install_error_handlers(app)
    app.include_router(liveness)  # first: /health, /auth/me, /session/me, the refresh (see `liveness` above)
    app.include_router(tokens.router)  # then the other paths a client calls: login, register
    app.include_router(sessions.router)
    app.include_router(meta)
    app.include_router(readiness_router(feed_check=feed_check))
    if metrics is not None:
        app.add_route("/metrics", metrics.endpoint, methods=["GET"], include_in_schema=False)
    app.include_router(password.router)
    app.include_router(oauth.router)
    app.include_router(docs.router)
    if ui:
        app.include_router(page_router())
    install_openapi(app)
    if not registration:
        close_registration(app)
    # the last added is the outermost: the proxy's view of the client first, then CORS (its
    # preflights never reach the rest), then the security headers on everything below; innermost,
    # the hot endpoints served ahead of the router (.direct)
    app.add_middleware(DirectRoutes, routes=direct_routes(app), handlers=app.exception_handlers)
    app.add_middleware(BodySizeLimit, max_body_size=max_body_size)
    app.add_middleware(SecurityHeaders)
    add_cors(app, browser.cors_origins)
    if trusted:
        app.add_middleware(ForwardedHeaders, trusted=trusted)
    if metrics is not None:
        from .metrics import HttpMetrics

        app.add_middleware(HttpMetrics, metrics=metrics)
    app.add_middleware(RequestId)  # the outermost: every response and log line of a request has its id
    return app
