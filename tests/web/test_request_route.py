"""``RequestRoute``: an endpoint of the request alone is called without FastAPI's request handler;
any other endpoint keeps FastAPI's (its parameters parsed, its dependencies run)."""

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request, Response

from jwtkit.web.deps import RequestRoute

pytestmark = pytest.mark.anyio


async def request_alone(request: Request) -> Response:
    return Response(request.url.path, media_type="text/plain")


def route_of(app: FastAPI, path: str) -> RequestRoute:
    route = next(r for r in app.router.routes if getattr(r, "path", None) == path)
    assert isinstance(route, RequestRoute)
    return route


def app_with(path: str, endpoint: object, **options: object) -> FastAPI:
    app = FastAPI()
    app.router.add_api_route(path, endpoint, methods=["GET"], route_class_override=RequestRoute, **options)  # type: ignore[arg-type]
    return app


async def get(app: FastAPI, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get(url)


def test_an_endpoint_of_the_request_alone_is_its_own_handler():
    route = route_of(app_with("/hot", request_alone), "/hot")
    assert route.get_route_handler() is request_alone


async def test_an_endpoint_of_the_request_alone_answers_with_its_response():
    response = await get(app_with("/hot", request_alone), "/hot")
    assert (response.status_code, response.text) == (200, "/hot")


async def test_an_endpoint_with_a_query_parameter_keeps_fastapis_validation():
    async def with_query(request: Request, q: int) -> Response:
        return Response(str(q))

    app = app_with("/q", with_query)
    assert route_of(app, "/q").get_route_handler() is not with_query
    assert (await get(app, "/q?q=7")).text == "7"
    assert (await get(app, "/q?q=seven")).status_code == 422


async def test_an_endpoint_with_a_dependency_keeps_it():
    seen: list[str] = []

    async def note(request: Request) -> None:
        seen.append(request.url.path)

    app = app_with("/dep", request_alone, dependencies=[Depends(note)])
    assert route_of(app, "/dep").get_route_handler() is not request_alone
    assert (await get(app, "/dep")).status_code == 200
    assert seen == ["/dep"]


async def test_an_endpoint_with_a_dependency_parameter_keeps_it():
    async def name_of(request: Request) -> str:
        return "from the dependency"

    async def with_dependency(request: Request, name: Annotated[str, Depends(name_of)]) -> Response:
        return Response(name)

    app = app_with("/param", with_dependency)
    assert (await get(app, "/param")).text == "from the dependency"


async def test_a_plain_def_endpoint_keeps_fastapis_handler():
    def sync_endpoint(request: Request) -> Response:
        return Response("sync")

    app = app_with("/sync", sync_endpoint)
    assert route_of(app, "/sync").get_route_handler() is not sync_endpoint
    assert (await get(app, "/sync")).text == "sync"


async def test_a_dependency_of_the_including_router_still_runs():
    from fastapi import APIRouter

    seen: list[str] = []

    async def note(request: Request) -> None:
        seen.append(request.url.path)

    router = APIRouter(dependencies=[Depends(note)])
    router.add_api_route("/routed", request_alone, methods=["GET"], route_class_override=RequestRoute)
    app = FastAPI()
    app.include_router(router)
    assert (await get(app, "/routed")).text == "/routed"
    assert seen == ["/routed"]


async def test_a_dependency_given_at_inclusion_still_runs():
    from fastapi import APIRouter

    seen: list[str] = []

    async def note(request: Request) -> None:
        seen.append(request.url.path)

    router = APIRouter()
    router.add_api_route("/included", request_alone, methods=["GET"], route_class_override=RequestRoute)
    app = FastAPI()
    app.include_router(router, prefix="/p", dependencies=[Depends(note)])
    assert (await get(app, "/p/included")).text == "/p/included"
    assert seen == ["/p/included"]


async def test_a_router_included_without_dependencies_calls_the_endpoint_alone():
    from fastapi import APIRouter

    router = APIRouter()
    router.add_api_route("/plain", request_alone, methods=["GET"], route_class_override=RequestRoute)
    app = FastAPI()
    app.include_router(router)
    assert (await get(app, "/plain")).text == "/plain"
