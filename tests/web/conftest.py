"""Fixtures for the black-box HTTP tests: the real ``AuthService`` over the memory store and over
SQLite (and PostgreSQL for the main flows), the app built by ``jwtkit.web.create_app``, and an
``httpx.AsyncClient`` on its ASGI transport with the lifespan entered (so the service is opened
and closed as in production)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from jwtkit.auth.service import AuthService
from jwtkit.auth.settings import AuthSettings
from jwtkit.web import create_app
from jwtkit.wiring import in_process_database, open_stores
from support.constants import PASSWORD

# argon2id at its cheapest: the tests are about HTTP behaviour, not hashing cost
FAST_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_cost": 8, "password_parallelism": 1}


class Clock:
    """A clock the tests move by hand (the service takes ``clock=``)."""

    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


BACKENDS = ["memory", "sqlite", "postgresql+redis"]
WITH_POSTGRESQL = [*BACKENDS, "postgresql"]
"""Every HTTP test runs on the in-memory reference, SQLite (polled, as ``jwtkit serve`` runs it) and the
scaled-out deployment (PostgreSQL + Redis, as ``jwtkit serve --redis`` composes it). The main flows
(login, refresh and its race, verify/logout) also run on PostgreSQL without Redis (polled): a module
says ``BACKENDS_HERE = WITH_POSTGRESQL`` (``pytest_generate_tests`` hands them to the one ``backend`` fixture).
PostgreSQL gets a fresh schema per test, Redis a fresh key prefix; under CI a missing server fails,
elsewhere it skips."""


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module's ``BACKENDS_HERE`` replaces the ``backend`` fixture's params for its tests (a mark, so
    pytest applies it instead of the params, not on top of them)."""
    backends = getattr(metafunc.module, "BACKENDS_HERE", None)
    if backends is not None and "backend" in metafunc.fixturenames:
        metafunc.definition.add_marker(pytest.mark.parametrize("backend", backends, indirect=True))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    param: str = request.param
    return param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'auth.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def redis_target(backend: str, request: pytest.FixtureRequest) -> tuple[str | None, str]:
    """``(redis_url, redis_prefix)`` for the ``postgresql+redis`` backend, ``(None, "jwtkit:")`` otherwise."""
    if backend != "postgresql+redis":
        return None, "jwtkit:"
    return request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")


@pytest.fixture
def database_schema(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL schema of this test (``None`` on the other backends)."""
    if not backend.startswith("postgresql"):
        return None
    schema: str = request.getfixturevalue("pg_schema")
    return schema


@pytest.fixture
def settings() -> AuthSettings:
    """Override in a test module (or parametrize) for other TTLs or throttling limits."""
    return AuthSettings(**FAST_HASHING)


@pytest.fixture
def service_factory(
    database_url: str, database_schema: str | None, redis_target: tuple[str | None, str], settings: AuthSettings,
    clock: Clock,
) -> Callable[[], Awaitable[AuthService]]:
    redis_url, redis_prefix = redis_target
    polled = redis_url is None and not in_process_database(database_url)  # as `jwtkit serve` decides

    async def open_service() -> AuthService:
        stores = await open_stores(database_url, schema=database_schema, redis_url=redis_url,
                                   redis_prefix=redis_prefix, poll_database=polled)
        return await AuthService.open(settings, stores, clock=clock)

    return open_service


@contextlib.asynccontextmanager
async def serve(
    app: FastAPI, *, base_url: str = "http://testserver", **kwargs: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on ``app``'s ASGI transport, inside the app's lifespan."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, **kwargs)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@pytest.fixture
def app(service_factory: Callable[[], Awaitable[AuthService]]) -> FastAPI:
    return create_app(service_factory, maintenance_interval=None)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as client:
        yield client


async def register(client: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/auth/register", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: httpx.AsyncClient, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sign_up(base_url: str, username: str = "alice", *, timeout: float = 30) -> dict[str, Any]:
    """Register ``username`` on the real server at ``base_url`` and log in there: the token pair."""
    with httpx.Client(base_url=base_url, timeout=timeout) as http:
        assert http.post("/auth/register", json={"username": username, "password": PASSWORD}).status_code == 201
        response = http.post("/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        pair: dict[str, Any] = response.json()
        return pair


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
