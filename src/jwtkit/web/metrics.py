"""Prometheus metrics of the auth server (``jwtkit serve --metrics``: ``GET /metrics``).

Off by default, and then nothing of this module runs: no middleware, no route, no import of
``prometheus_client`` (the ``metrics`` extra). When on:

=============================================  =========  ==============================================
metric                                         type       labels / meaning
=============================================  =========  ==============================================
``jwtkit_http_requests_total``                 counter    ``method``, ``route`` (the template, e.g.
                                                          ``/auth/me``; ``unmatched`` for a 404), ``status``
``jwtkit_http_request_duration_seconds``       histogram  ``method``, ``route``: time in the app
``jwtkit_logins_total``                        counter    ``outcome``: ``ok``, ``failed``, ``throttled``
``jwtkit_refreshes_total``                     counter    ``outcome``: ``ok``, ``reused``, ``grace``
``jwtkit_revocations_total``                   counter    ``kind``: ``family`` (refresh families),
                                                          ``token`` (single access tokens, at logout)
``jwtkit_revocation_feed_staleness_seconds``   gauge      since the revocation feed was last in sync
                                                          (0 in-process; +Inf never or closed)
``jwtkit_revocation_feed_fresh``               gauge      1 while within ``revocation_max_staleness``
``jwtkit_key_ring_size``                       gauge      signing keys published (active + retired live)
``jwtkit_denylist_entries``                    gauge      this process's in-memory denylist
=============================================  =========  ==============================================

Each app has its own ``CollectorRegistry`` (never the global one), so tests and several apps
in one process do not collide. With several worker processes the counters and histograms are
prometheus' multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``jwtkit serve``): each
worker writes its own files and ``/metrics`` on any worker sums them; the gauges keep the
worst worker (``livemax``; ``livemin`` for ``fresh``), refreshed every second by each worker.

The HTTP middleware is pure ASGI (one closure and a ``perf_counter`` per request; the labelled
children are cached, so no label lookup per request).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jwtkit.auth.events import LoginOutcome, RefreshOutcome

if TYPE_CHECKING:
    from jwtkit.auth.service import AuthService

__all__ = ["MULTIPROC_ENV", "HttpMetrics", "Metrics", "feed_staleness"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
GAUGE_INTERVAL = 1.0
"""Seconds between a worker's gauge refreshes in multiprocess mode."""
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STALENESS_CAP = 86400.0  # beyond a day (or never in sync): +Inf


class Metrics:
    """The server's instruments on a registry of their own; also the service's :class:`AuthEvents`.

    Example::

        metrics = Metrics()
        service = await AuthService.open(settings, stores, events=metrics)
        metrics.watch(service)
        text = metrics.exposition()   # what GET /metrics answers
    """

    def __init__(self, *, multiprocess: bool = False) -> None:
        """``multiprocess``: the exposition sums every worker's files (prometheus_client must then
        have been imported with ``PROMETHEUS_MULTIPROC_DIR`` set: ``jwtkit serve`` does it)."""
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = multiprocess
        self.registry = registry = CollectorRegistry()
        self._requests = Counter("jwtkit_http_requests", "HTTP requests by route template and status.",
                                 ["method", "route", "status"], registry=registry)
        self._latency = Histogram("jwtkit_http_request_duration_seconds", "Time in the app per request.",
                                  ["method", "route"], buckets=_LATENCY_BUCKETS, registry=registry)
        self._logins = Counter("jwtkit_logins", "Password checks (token and session logins) by outcome.",
                               ["outcome"], registry=registry)
        self._refreshes = Counter("jwtkit_refreshes", "Refresh-token spends by outcome.", ["outcome"],
                                  registry=registry)
        self._revocations = Counter("jwtkit_revocations", "Revoked refresh families and access tokens.",
                                    ["kind"], registry=registry)
        self._staleness = Gauge("jwtkit_revocation_feed_staleness_seconds",
                                "Seconds since the revocation feed was last in sync (+Inf: never).",
                                registry=registry, multiprocess_mode="livemax")
        self._fresh = Gauge("jwtkit_revocation_feed_fresh",
                            "1 while the revocation feed is within revocation_max_staleness.",
                            registry=registry, multiprocess_mode="livemin")
        self._key_ring = Gauge("jwtkit_key_ring_size", "Signing keys published (active and retired live).",
                               registry=registry, multiprocess_mode="livemax")
        self._denylist = Gauge("jwtkit_denylist_entries", "Entries in this process's in-memory denylist.",
                               registry=registry, multiprocess_mode="livemax")
        for outcome in ("ok", "failed", "throttled"):
            self._logins.labels(outcome)  # every series exists from the start, at 0
        for outcome in ("ok", "reused", "grace"):
            self._refreshes.labels(outcome)
        for kind in ("family", "token"):
            self._revocations.labels(kind)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._service: AuthService | None = None

    # ---- AuthEvents ---------------------------------------------------------------------------

    def login(self, outcome: LoginOutcome, user_id: int | None) -> None:
        self._logins.labels(outcome).inc()

    def refresh(self, outcome: RefreshOutcome, user_id: int) -> None:
        self._refreshes.labels(outcome).inc()

    def revoked(self, *, families: int, tokens: int, user_id: int | None) -> None:
        if families:
            self._revocations.labels("family").inc(families)
        if tokens:
            self._revocations.labels("token").inc(tokens)

    # ---- requests -----------------------------------------------------------------------------

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and its time."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self._requests.labels(method, route, str(status)), self._latency.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    # ---- the service's state ------------------------------------------------------------------

    def watch(self, service: AuthService | None) -> None:
        """Read the gauges from ``service`` (``None``: stop)."""
        self._service = service
        if service is not None:
            self.refresh_gauges()

    def refresh_gauges(self) -> None:
        service = self._service
        if service is None:
            return
        staleness = feed_staleness(service)
        self._staleness.set(staleness)
        self._fresh.set(1 if staleness <= service.settings.revocation_max_staleness else 0)
        self._key_ring.set(len(service.keys.ring.published))
        self._denylist.set(len(service.revocations))

    @contextlib.asynccontextmanager
    async def watching(self, service: AuthService) -> AsyncIterator[None]:
        """:meth:`watch` ``service`` while inside; in multiprocess mode, refresh the gauges every
        :data:`GAUGE_INTERVAL` seconds too (another worker may answer the scrape)."""
        self.watch(service)
        task = asyncio.create_task(self._refresh_forever(), name="jwtkit-metrics") if self.multiprocess else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.watch(None)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(GAUGE_INTERVAL)
            self.refresh_gauges()

    def exposition(self) -> tuple[bytes, str]:
        """The text format of every metric (every worker's, in multiprocess mode) and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        self.refresh_gauges()
        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return generate_latest(combined), CONTENT_TYPE_LATEST

    async def endpoint(self, request: Request) -> Response:
        """``GET /metrics``."""
        body, content_type = self.exposition()
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def feed_staleness(service: AuthService) -> float:
    """Seconds since the revocation feed was last in sync, to the millisecond; ``inf`` beyond a day.

    The feed port answers only ``is_fresh(bound)``, true exactly when the staleness is at most
    ``bound``: the staleness is the smallest bound that holds, found by bisection (a few dozen
    in-memory calls, at scrape time only)."""
    is_fresh = service.stores.feed.is_fresh
    if is_fresh(0.0):
        return 0.0
    if not is_fresh(_STALENESS_CAP):
        return float("inf")
    low, high = 0.0, _STALENESS_CAP
    while high - low > 0.001:
        middle = (low + high) / 2
        if is_fresh(middle):
            high = middle
        else:
            low = middle
    return round(high, 3)


class HttpMetrics:
    """Pure ASGI middleware: count each HTTP request by method, route template and status, and time it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # the app raised before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) if route is not None else None
            self.metrics.observe(scope["method"], template if isinstance(template, str) else UNMATCHED, status,
                                 time.perf_counter() - started)
