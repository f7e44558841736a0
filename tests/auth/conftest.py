"""Fixtures for the auth service: a fake clock (no sleeps), cheap argon2 settings, and the
service over memory and SQLite stores (PostgreSQL where a test asks for it)."""

import dataclasses

import pytest

from jwtkit.auth.service import AuthService
from jwtkit.auth.settings import AuthSettings
from jwtkit.storage.memory import LocalRevocationFeed, MemoryStore, open_memory_stores
from jwtkit.storage.sql import open_sql_stores

# argon2id at its cheapest: the tests check behaviour, not cost.
FAST = {"password_time_cost": 1, "password_memory_cost": 8, "password_parallelism": 1}
PASSWORD = "correct horse battery"  # the same constant in the test modules


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def settings():
    return AuthSettings(**FAST)


@pytest.fixture(params=["memory", "sqlite"])
def backend(request):
    return request.param


@pytest.fixture
async def open_service(backend, tmp_path, clock, settings, request):
    """``await open_service(**settings_changes)``: a service over this test's stores; calling it
    again opens a second service on the same data (a restart, or a second process)."""
    memory = MemoryStore()
    feed = LocalRevocationFeed()
    opened = []
    if backend == "postgresql":
        url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")
    else:
        url, schema = f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}", None

    async def open_(**changes):
        if backend == "memory":
            stores = open_memory_stores(memory, feed=feed)
        else:
            stores = await open_sql_stores(url, schema=schema)
        service = await AuthService.open(dataclasses.replace(settings, **changes), stores, clock=clock)
        opened.append(service)
        return service

    yield open_
    for service in opened:
        await service.close()


@pytest.fixture
async def service(open_service):
    return await open_service()


@pytest.fixture
async def alice(service):
    return await service.register("alice", PASSWORD)
