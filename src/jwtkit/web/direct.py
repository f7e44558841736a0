"""``DirectRoutes``: the hot endpoints served ahead of FastAPI's router, by exact method and path.

Why: a request FastAPI routes passes its application wrapper (the telemetry check), Starlette's
exception middleware, FastAPI's exit-stack and telemetry middlewares, each included router in
turn, the route's own request/response wrapper and its exception wrapper, on the way in and on the
way out: ~75 µs of server CPU per refresh on PostgreSQL, measured over sockets
(``benchmarks/ab_refresh.py``), as much as a tenth of the whole request. The endpoints served here
(the app's ``RequestRoute``s: ``/auth/me``, ``/session/me``, the refresh) take the request alone
and answer a ``Response``, so none of that does anything for them.

What stays the same: the routes are FastAPI's (declared, documented in OpenAPI, and served by
FastAPI for any request not matched here); every middleware the app adds (request id, metrics,
proxy headers, CORS, security headers, the body size limit) wraps this one, the innermost; an
exception is answered by the handler the app registered for its class (or an ``HTTPException``'s
status), with the request, as Starlette's route wrapper does, and one without a handler (a bug)
goes on to Starlette's server-error middleware (500). ``scope["route"]`` and ``scope["endpoint"]``
are set as the router sets them (the metrics label a request with its route's path).

Only an exact match is served: another method (405), a trailing slash (the redirect), a request
under a ``root_path``, a HEAD request and every other scope type go to the app as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .deps import RequestRoute, takes_request_alone

__all__ = ["DirectRoutes", "direct_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
ExceptionHandler = Callable[[Request, Exception], Awaitable[Response] | Response]


def direct_routes(routers: Iterable[APIRouter]) -> dict[tuple[str, str], APIRoute]:
    """The ``(method, path)`` of every ``RequestRoute`` of ``routers`` whose endpoint takes the request
    alone (a router with dependencies gives none: FastAPI must solve them), HEAD left to FastAPI."""
    table: dict[tuple[str, str], APIRoute] = {}
    for router in routers:
        if router.dependencies:
            continue
        for route in router.routes:
            if isinstance(route, RequestRoute) and takes_request_alone(route):
                for method in (route.methods or set()) - {"HEAD"}:
                    table.setdefault((method, route.path), route)  # (the router's prefix included)
    return table


class DirectRoutes:
    """Answer the requests ``routes`` names with their endpoints; pass everything else to ``app``.

    ``handlers`` is the app's ``exception_handlers`` mapping (read when an exception is raised, so
    handlers added later count): class or status code to handler; those of ``Exception`` and 500
    are left to the server-error middleware outside, as Starlette's exception middleware leaves them.

    Example::

        app.add_middleware(DirectRoutes, routes=direct_routes([hot_router]), handlers=app.exception_handlers)
    """

    def __init__(self, app: ASGIApp, *, routes: Mapping[tuple[str, str], APIRoute],
                 handlers: Mapping[Any, Callable[..., Any]]) -> None:
        self.app = app
        self.routes = dict(routes)
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if route is None or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        endpoint: Endpoint = route.endpoint
        scope["route"] = route
        scope["endpoint"] = endpoint
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = self._handler_of(exc)
            if handler is None:
                raise
            answered = handler(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
        await response(scope, receive, send)

    def _handler_of(self, exc: Exception) -> ExceptionHandler | None:
        """The registered handler of ``exc``, as Starlette's exception middleware looks it up."""
        handlers = self.handlers
        if isinstance(exc, HTTPException) and exc.status_code != 500 and exc.status_code in handlers:
            found: ExceptionHandler = handlers[exc.status_code]
            return found
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                by_class: ExceptionHandler = handlers[cls]
                return by_class
        return None
