"""Fixtures for the auth service: a fake clock (no sleeps), cheap argon2 settings, and the
service over memory and SQLite stores (PostgreSQL where a test asks for it)."""

import asyncio
import dataclasses

import pytest

from jwtkit.auth.service import AuthService
from jwtkit.auth.settings import AuthSettings
from jwtkit.storage.memory import LocalRevocationFeed, MemoryStore, open_memory_stores
from jwtkit.storage.sql import open_sql_stores
from jwtkit.wiring import open_stores
from support.constants import PASSWORD

# argon2id at its cheapest: the tests check behaviour, not cost.
FAST = {"password_time_cost": 1, "password_memory_cost": 8, "password_parallelism": 1}


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def settings():
    return AuthSettings(**FAST)


@pytest.fixture(params=["memory", "sqlite", "postgresql+redis"])
def backend(request):
    """Every service test runs on the in-memory reference, SQLite, and the scaled-out deployment
    (PostgreSQL in a fresh schema + Redis with a fresh key prefix, composed as ``jwtkit serve
    --redis`` composes it). Under CI a missing PostgreSQL or Redis fails; elsewhere it skips."""
    return request.param


@pytest.fixture
def storage(backend, tmp_path, request):
    """Where this test's stores live: ``(database_url, pg_schema, redis_url, redis_prefix)``
    (resolved here, in a sync fixture, because the Redis fixtures are async)."""
    if backend == "memory":
        return None, None, None, None
    if not backend.startswith("postgresql"):
        return f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}", None, None, None
    url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")
    if backend == "postgresql":
        return url, schema, None, None
    return url, schema, request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")


@pytest.fixture
def memory_store():
    """The store the memory backend opens on (a module may put a recording fake in its place)."""
    return MemoryStore()


@pytest.fixture
async def open_service(backend, storage, clock, settings, memory_store):
    """``await open_service(**settings_changes)``: a service over this test's stores; calling it
    again opens a second service on the same data (a restart, or a second process)."""
    memory = memory_store
    feed = LocalRevocationFeed()
    opened = []
    url, schema, redis_url, redis_prefix = storage

    async def open_(**changes):
        if backend == "memory":
            stores = open_memory_stores(memory, feed=feed)
        elif redis_url is not None:
            stores = await open_stores(url, schema=schema, redis_url=redis_url, redis_prefix=redis_prefix)
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


@pytest.fixture
def eventually():
    """``await eventually(condition, within=5, what=...)``: wait until ``condition()`` is true and
    return how long it took (seconds); fail after ``within`` seconds. A bound on waiting, not a
    timing assertion."""
    import time

    async def wait(condition, *, within: float = 5.0, what: str = "condition") -> float:
        start = time.monotonic()
        while not condition():
            if time.monotonic() - start > within:
                raise AssertionError(f"{what} not reached within {within} s")
            await asyncio.sleep(0.005)
        return time.monotonic() - start

    return wait
