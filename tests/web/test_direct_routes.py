"""``DirectRoutes``: the app's ``RequestRoute`` endpoints answered ahead of FastAPI's router, by
exact method and path, with the app's exception handlers; everything else goes to the app as before."""

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from jwtkit.web import create_app
from jwtkit.web.deps import RequestRoute
from jwtkit.web.direct import DirectRoutes, direct_routes

pytestmark = pytest.mark.anyio


class Teapot(Exception):
    pass


class SmallTeapot(Teapot):
    pass


async def hot(request: Request) -> Response:
    return Response(f"direct {request.method} {request.url.path}", media_type="text/plain")


async def raising(request: Request) -> Response:
    raise {"/teapot": SmallTeapot(), "/gone": HTTPException(410), "/bug": RuntimeError("bug"),
           "/missing": HTTPException(404)}[request.url.path]


async def teapot_handler(request: Request, exc: Exception) -> Response:
    return Response(f"handled {type(exc).__name__} at {request.url.path}", status_code=418)


async def gone_handler(request: Request, exc: Exception) -> Response:
    return Response("gone by status", status_code=410)


def hot_router() -> APIRouter:
    router = APIRouter()
    router.add_api_route("/hot", hot, methods=["GET", "POST", "HEAD"], route_class_override=RequestRoute)
    for path in ("/teapot", "/gone", "/bug", "/missing"):
        router.add_api_route(path, raising, methods=["GET"], route_class_override=RequestRoute)
    return router


class Recorder:
    """The app behind ``DirectRoutes``: records what reached it and answers ``routed``."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope.get("path", scope["type"]))
        if scope["type"] == "http":
            await Response("routed", media_type="text/plain")(scope, receive, send)


def app_including(router: APIRouter, **options: Any) -> FastAPI:
    app = FastAPI()
    app.include_router(router, **options)
    return app


def server_receive() -> Any:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive


async def ignore(message: Any) -> None:
    pass


def direct_over(inner: Any, handlers: dict[Any, Any] | None = None) -> DirectRoutes:
    return DirectRoutes(inner, routes=direct_routes(app_including(hot_router())),
                        handlers={} if handlers is None else handlers)


async def call(app: Any, method: str, url: str, **options: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, **options), base_url="http://test") as client:
        return await client.request(method, url)


# ---- what is served directly


def test_the_table_holds_each_method_of_each_request_route():
    table = direct_routes(app_including(hot_router()))
    assert {("GET", "/hot"), ("POST", "/hot"), ("GET", "/teapot")} <= set(table)
    assert table[("GET", "/hot")].endpoint is hot


def test_head_is_left_to_fastapi_though_the_route_declares_it():
    table = direct_routes(app_including(hot_router()))
    assert ("GET", "/hot") in table
    assert ("HEAD", "/hot") not in table


def test_a_route_of_fastapis_own_class_is_not_served_directly():
    router = APIRouter()
    router.add_api_route("/plain", hot, methods=["GET"])
    assert direct_routes(app_including(router)) == {}


def test_an_endpoint_with_parameters_is_not_served_directly():
    async def with_query(request: Request, q: int) -> Response:
        return Response(str(q))

    router = APIRouter()
    router.add_api_route("/q", with_query, methods=["GET"], route_class_override=RequestRoute)
    assert direct_routes(app_including(router)) == {}


async def note(request: Request) -> None:
    pass


def test_a_router_with_dependencies_is_not_served_directly():
    router = APIRouter(dependencies=[Depends(note)])
    router.add_api_route("/hot", hot, methods=["GET"], route_class_override=RequestRoute)
    assert direct_routes(app_including(router)) == {}


def test_a_router_included_with_dependencies_is_not_served_directly():
    assert direct_routes(app_including(hot_router(), dependencies=[Depends(note)])) == {}


def test_an_app_with_dependencies_serves_nothing_directly():
    app = FastAPI(dependencies=[Depends(note)])
    app.include_router(hot_router())
    assert direct_routes(app) == {}


def test_a_routers_prefix_is_part_of_the_path_it_serves():
    router = APIRouter(prefix="/p")
    router.add_api_route("/hot", hot, methods=["GET"], route_class_override=RequestRoute)
    assert set(direct_routes(app_including(router))) == {("GET", "/p/hot")}


def test_the_prefix_of_an_inclusion_is_part_of_the_path_it_serves():
    table = direct_routes(app_including(hot_router(), prefix="/v1"))
    assert ("GET", "/v1/hot") in table
    assert ("GET", "/hot") not in table


def test_a_path_an_earlier_route_answers_stays_fastapis():
    app = FastAPI()

    @app.get("/hot")
    async def earlier() -> str:
        return "earlier"

    app.include_router(hot_router())
    table = direct_routes(app)
    assert ("GET", "/hot") not in table
    assert ("POST", "/hot") in table


async def test_a_listed_request_is_answered_by_its_endpoint_without_the_app():
    inner = Recorder()
    response = await call(direct_over(inner), "POST", "/hot")
    assert (response.status_code, response.text) == (200, "direct POST /hot")
    assert inner.paths == []


async def test_another_method_goes_to_the_app():
    inner = Recorder()
    assert (await call(direct_over(inner), "PUT", "/hot")).text == "routed"
    assert inner.paths == ["/hot"]


async def test_a_trailing_slash_goes_to_the_app():
    inner = Recorder()
    assert (await call(direct_over(inner), "GET", "/hot/")).text == "routed"


async def test_a_request_under_a_root_path_goes_to_the_app():
    inner = Recorder()
    scope = {"type": "http", "method": "GET", "path": "/hot", "root_path": "/api", "headers": []}
    await direct_over(inner)(scope, server_receive(), ignore)
    assert inner.paths == ["/hot"]


async def test_a_request_fastapis_telemetry_observes_goes_to_the_app():
    inner = Recorder()
    scope = {"type": "http", "method": "GET", "path": "/hot", "headers": [], "fastapi.telemetry": object()}
    await direct_over(inner)(scope, server_receive(), ignore)
    assert inner.paths == ["/hot"]


async def test_a_request_with_fastapis_telemetry_off_is_served_directly():
    inner = Recorder()
    scope = {"type": "http", "method": "GET", "path": "/hot", "headers": [], "fastapi.telemetry": None}
    await direct_over(inner)(scope, server_receive(), ignore)
    assert inner.paths == []


async def test_a_head_request_goes_to_the_app_though_the_route_declares_it():
    inner = Recorder()
    await call(direct_over(inner), "HEAD", "/hot")
    assert inner.paths == ["/hot"]


async def test_other_scope_types_go_to_the_app():
    inner = Recorder()

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        pass

    await direct_over(inner)({"type": "lifespan"}, receive, send)
    assert inner.paths == ["lifespan"]


async def test_the_route_and_endpoint_are_in_the_scope_as_the_router_puts_them():
    seen: dict[str, Any] = {}

    async def look(scope: Scope, receive: Receive, send: Send) -> None:
        await direct(scope, receive, send)
        seen.update(route=scope.get("route"), endpoint=scope.get("endpoint"))

    direct = direct_over(Recorder())
    await call(look, "GET", "/hot")
    assert seen["route"].path == "/hot"
    assert seen["endpoint"] is hot


# ---- errors


async def test_an_exception_is_answered_by_the_handler_of_its_nearest_class():
    response = await call(direct_over(Recorder(), {Teapot: teapot_handler}), "GET", "/teapot")
    assert (response.status_code, response.text) == (418, "handled SmallTeapot at /teapot")


async def test_an_http_exception_is_answered_by_the_handler_of_its_status_first():
    handlers = {410: gone_handler, HTTPException: teapot_handler}
    response = await call(direct_over(Recorder(), handlers), "GET", "/gone")
    assert (response.status_code, response.text) == (410, "gone by status")


async def test_an_http_exception_without_a_status_handler_gets_its_class_handler():
    handlers = {410: gone_handler, HTTPException: teapot_handler}
    response = await call(direct_over(Recorder(), handlers), "GET", "/missing")
    assert (response.status_code, response.text) == (418, "handled HTTPException at /missing")


async def test_a_sync_handler_is_called_on_a_worker_thread_as_starlette_calls_it():
    import threading

    threads: list[str] = []

    def sync_handler(request: Request, exc: Exception) -> Response:
        threads.append(threading.current_thread().name)
        return Response("sync", status_code=418)

    response = await call(direct_over(Recorder(), {Teapot: sync_handler}), "GET", "/teapot")
    assert (response.status_code, response.text) == (418, "sync")
    assert len(threads) == 1
    assert threads[0] != threading.main_thread().name


async def test_an_http_500_goes_to_its_class_handler_not_to_the_500_handler():
    async def server_error(request: Request) -> Response:
        raise HTTPException(500)

    async def on_500(request: Request, exc: Exception) -> Response:
        return Response("the 500 handler", status_code=500)

    router = APIRouter()
    router.add_api_route("/error", server_error, methods=["GET"], route_class_override=RequestRoute)
    direct = DirectRoutes(Recorder(), routes=direct_routes(app_including(router)),
                          handlers={500: on_500, HTTPException: teapot_handler})
    response = await call(direct, "GET", "/error")
    assert (response.status_code, response.text) == (418, "handled HTTPException at /error")


async def test_a_handler_that_answers_nothing_sends_nothing():
    async def silent(request: Request, exc: Exception) -> None:
        return None

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/teapot", "headers": []}
    await direct_over(Recorder(), {Teapot: silent})(scope, server_receive(), send)
    assert sent == []


async def test_an_exception_without_a_handler_propagates():
    with pytest.raises(RuntimeError, match="bug"):
        await call(direct_over(Recorder(), {Teapot: teapot_handler}), "GET", "/bug")


async def test_the_handler_of_exception_is_left_to_the_server_error_middleware():
    with pytest.raises(RuntimeError, match="bug"):
        await call(direct_over(Recorder(), {Exception: teapot_handler}), "GET", "/bug")


async def test_in_a_fastapi_app_an_unhandled_exception_is_a_500_from_its_exception_handler():
    app = FastAPI()
    app.include_router(hot_router())
    served: list[str] = []

    async def on_bug(request: Request, exc: Exception) -> Response:
        served.append("by the router" if "router" in request.scope else "directly")  # (the router sets it)
        return Response("our 500", status_code=500)

    app.add_exception_handler(Exception, on_bug)
    app.add_middleware(DirectRoutes, routes=direct_routes(app), handlers=app.exception_handlers)
    response = await call(app, "GET", "/bug", raise_app_exceptions=False)
    assert (response.status_code, response.text) == (500, "our 500")
    assert served == ["directly"]


async def test_handlers_registered_after_the_middleware_count():
    handlers: dict[Any, Any] = {}
    direct = direct_over(Recorder(), handlers)
    handlers[Teapot] = teapot_handler
    assert (await call(direct, "GET", "/teapot")).status_code == 418


# ---- the server's table


async def _never() -> None:  # the lifespan is not entered
    raise AssertionError("not opened")


def test_the_server_serves_its_three_hot_endpoints_directly():
    assert set(direct_routes(create_app(_never))) == {("GET", "/auth/me"), ("GET", "/session/me"),
                                                       ("POST", "/auth/token/refresh")}


def test_the_server_app_has_the_direct_routes_innermost():
    app = create_app(_never)
    assert app.user_middleware[-1].cls is DirectRoutes  # the last of the list is the innermost


def test_the_servers_direct_routes_use_the_apps_exception_handlers():
    app = create_app(_never)
    (direct,) = [m for m in app.user_middleware if m.cls is DirectRoutes]
    assert direct.kwargs["handlers"] is app.exception_handlers
