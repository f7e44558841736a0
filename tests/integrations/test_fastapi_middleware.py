"""The middleware way for FastAPI: ``JWTAuthBackend.middleware()`` on the app and ``requires`` on the
routes, with ``request.user`` and ``request.auth`` as in Starlette (a FastAPI app is a Starlette app).
The way for apps whose every route is protected, and where a ``Depends`` per route costs too much.

No ``from __future__ import annotations``: FastAPI reads the routes' annotations.
"""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

import jwtkit
from jwtkit.integrations.starlette import JWTAuthBackend, requires

from .issuer import bearer, signed

pytestmark = pytest.mark.anyio


def app_with(backend: JWTAuthBackend) -> FastAPI:
    app = FastAPI(middleware=[backend.middleware()])

    @app.get("/me")
    @requires()
    async def me(request: Request) -> dict[str, Any]:
        return {"sub": request.user.identity, "scopes": request.auth.scopes}

    @app.get("/items")
    @requires("items:read")
    async def items(request: Request) -> dict[str, Any]:
        return {"items": []}

    @app.get("/open")
    async def open_route(request: Request) -> dict[str, Any]:
        return {"authenticated": request.user.is_authenticated}

    return app


@pytest.fixture
def http(key: jwtkit.Key) -> httpx.AsyncClient:
    app = app_with(JWTAuthBackend(key=key.public_key(), algorithms=["ES256"]))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


async def test_a_valid_access_token_gives_the_route_its_user(http, key):
    answer = await http.get("/me", headers=bearer(signed(key, scope="items:read")))
    assert answer.status_code == 200
    assert answer.json() == {"sub": "alice", "scopes": ["items:read", "authenticated"]}


async def test_no_token_is_a_401_bearer(http):
    answer = await http.get("/me")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_bad_token_is_a_401_invalid_token(http, key):
    answer = await http.get("/me", headers=bearer(signed(key, token_type="refresh")))
    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_token", "error_description": "This is not an access token."}


async def test_a_missing_scope_is_a_403_naming_it(http, key):
    answer = await http.get("/items", headers=bearer(signed(key, scope="other")))
    assert answer.status_code == 403
    assert answer.json()["scope"] == "items:read"


async def test_an_open_route_answers_without_a_token(http):
    answer = await http.get("/open")
    assert answer.json() == {"authenticated": False}


def test_the_protected_routes_take_no_parameters_in_the_openapi_schema(key):
    schema = app_with(JWTAuthBackend(key=key.public_key(), algorithms=["ES256"])).openapi()
    assert "parameters" not in schema["paths"]["/me"]["get"]
