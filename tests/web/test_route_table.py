"""The order of the route table: FastAPI tries the routes (and included routers) in order, and
every router passed costs a few µs per request, so the floor (``/health``) comes first, the hot
path (``/auth/me``) second, ``/session/me`` third and the refresh fourth, before every other
endpoint. The three are ``RequestRoute``s, called without FastAPI's request handler."""

from fastapi import FastAPI

from jwtkit.web import create_app
from jwtkit.web.app import liveness
from jwtkit.web.credentials import REFRESH_BODY
from jwtkit.web.deps import RequestRoute, takes_request_alone
from jwtkit.web.openapi import BEARER, COOKIE


async def _never() -> None:  # the lifespan is not entered: the table is built by create_app
    raise AssertionError("not opened")


def api_paths_in_order(app: FastAPI) -> list[str]:
    """The paths of the app's routes in the order a request is matched against them, each included
    router's routes in its own order (the Starlette ``/openapi.json`` route left out)."""
    paths: list[str] = []
    for route in app.router.routes:
        router = getattr(route, "original_router", None)
        if router is not None:
            paths += [r.path for r in router.routes]
        elif route.path != "/openapi.json":  # type: ignore[attr-defined]
            paths.append(route.path)  # type: ignore[attr-defined]
    return paths


def test_health_is_matched_first_and_auth_me_second():
    assert api_paths_in_order(create_app(_never))[:2] == ["/health", "/auth/me"]


def test_session_me_is_matched_third():
    assert api_paths_in_order(create_app(_never))[2] == "/session/me"


def test_the_refresh_is_matched_fourth():
    assert api_paths_in_order(create_app(_never))[3] == "/auth/token/refresh"


def test_the_hot_endpoints_are_called_without_fastapis_request_handler():
    hot = {route.path: route for route in liveness.routes if route.path in ("/auth/me", "/session/me")}  # type: ignore[attr-defined]
    assert set(hot) == {"/auth/me", "/session/me"}
    for route in hot.values():
        assert isinstance(route, RequestRoute)
        assert takes_request_alone(route)


def test_no_dependency_applies_to_the_first_router():
    # one would give the hot endpoints FastAPI's request handler back (and its cost)
    assert liveness.dependencies == []
    assert create_app(_never).router.dependencies == []


def test_the_openapi_document_is_the_only_route_before_health():
    routes = create_app(_never).router.routes
    assert [getattr(r, "path", None) for r in routes[:1]] == ["/openapi.json"]


def test_every_endpoint_is_still_in_the_table_once():
    paths = api_paths_in_order(create_app(_never))
    assert len(paths) == len(set(paths))
    for path in ("/.well-known/jwks.json", "/health/ready", "/auth/token", "/session/me", "/oauth/revoke", "/docs"):
        assert path in paths


def test_auth_me_keeps_its_openapi_operation_in_the_first_router():
    operation = create_app(_never).openapi()["paths"]["/auth/me"]["get"]
    assert operation["tags"] == ["tokens"]
    assert operation["operationId"] == "getMe"
    assert operation["security"] == BEARER  # the Bearer token or the /docs password flow
    assert set(operation["responses"]) == {"200", "401", "503"}


def test_session_me_keeps_its_openapi_operation_in_the_first_router():
    operation = create_app(_never).openapi()["paths"]["/session/me"]["get"]
    assert operation["tags"] == ["sessions"]
    assert operation["operationId"] == "sessionMe"
    assert operation["security"] == COOKIE
    assert set(operation["responses"]) == {"200", "401", "503"}


def test_the_refresh_endpoint_is_called_without_fastapis_request_handler():
    (route,) = [r for r in liveness.routes if r.path == "/auth/token/refresh"]  # type: ignore[attr-defined]
    assert isinstance(route, RequestRoute)
    assert takes_request_alone(route)


def test_the_refresh_endpoint_keeps_its_openapi_operation():
    operation = create_app(_never).openapi()["paths"]["/auth/token/refresh"]["post"]
    assert operation["tags"] == ["tokens"]
    assert operation["operationId"] == "refreshToken"
    assert operation["requestBody"] == REFRESH_BODY["requestBody"]
    assert set(operation["responses"]) == {"200", "400", "401", "413", "415", "422", "503"}
