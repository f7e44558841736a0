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
under a ``root_path``, a HEAD request and every other scope type go to the app as before. So does
every request while FastAPI's native OpenTelemetry is on (a tracer or meter provider configured):
its router names the span and the ``http.route`` attribute, which a request answered here would lack.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, cast

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .deps import RequestRoute, takes_request_alone

__all__ = ["DirectRoutes", "direct_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]
ExceptionHandler = Callable[[Request, Exception], Awaitable[Response] | Response]


def direct_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """The ``(method, path)`` of every ``RequestRoute`` of ``app`` that FastAPI would call with the request
    alone, as the app includes it: its path with the including routers' prefixes, and no dependency of the
    app, of an inclusion or of the route (FastAPI must solve those). A path an earlier route of the table
    already answers (the router matches in order) stays FastAPI's, and so does HEAD. Call it once every
    router is included."""
    if app.router.dependencies:
        return {}
    table: dict[tuple[str, str], APIRoute] = {}
    taken: set[tuple[str, str]] = set()
    for entry in _route_table(app):
        route = getattr(entry, "original_route", entry)
        path, methods = getattr(entry, "path", None), getattr(entry, "methods", None)
        if not isinstance(path, str) or not methods:
            continue
        dependant = getattr(entry, "dependant", None)
        direct = (isinstance(route, RequestRoute) and "{" not in path
                  and takes_request_alone(route, dependant if isinstance(dependant, Dependant) else None))
        for method in set(methods) - {"HEAD"}:
            if (method, path) not in taken and direct:
                table[(method, path)] = cast(APIRoute, route)
            taken.add((method, path))
    return table


def _route_table(app: FastAPI) -> Iterable[Any]:
    """The app's routes in matching order: the contexts of newer FastAPI (each included router's routes
    with what its inclusion adds: prefix, dependencies), or the flat list older FastAPI copies them into."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    return contexts(app.router.routes) if callable(contexts) else list(app.router.routes)


class DirectRoutes:
    """Answer the requests ``routes`` names with their endpoints; pass everything else to ``app``.

    ``handlers`` is the app's ``exception_handlers`` mapping (read when an exception is raised):
    class or status code to handler; those of ``Exception`` and 500 are left to the server-error
    middleware outside, as Starlette's exception middleware leaves them.

    Example (once every router is included)::

        app.add_middleware(DirectRoutes, routes=direct_routes(app), handlers=app.exception_handlers)
    """

    def __init__(self, app: ASGIApp, *, routes: Mapping[tuple[str, str], APIRoute],
                 handlers: Mapping[Any, Callable[..., Any]]) -> None:
        self.app = app
        self.routes = dict(routes)
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if route is None or scope.get("root_path") or scope.get("fastapi.telemetry") is not None:
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
            if inspect.iscoroutinefunction(handler):
                response = await handler(request, exc)
            else:  # as Starlette calls a plain def handler: on its thread pool
                plain = cast(Callable[[Request, Exception], Response], handler)
                response = await run_in_threadpool(plain, request, exc)
            if response is None:  # as Starlette: the handler answered nothing, so nothing is sent
                return
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
