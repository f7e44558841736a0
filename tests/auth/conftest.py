"""Fixtures for the auth service: a fake clock (no sleeps), cheap argon2 settings, and the
service over memory and SQLite stores (PostgreSQL where a test asks for it)."""

import asyncio
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


# ---- Redis and a cutting proxy, for the scale-out tests -----------------------------------------
# Redis on 127.0.0.1:6379, db 15, a random key prefix per test (other suites share that db, so never
# FLUSHDB). Under CI a missing Redis fails the tests that need it; elsewhere they skip.

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 15


@pytest.fixture
def redis_prefix(prefix):
    """The test Redis key prefix (the root conftest's ``prefix``), under the name the auth tests use."""
    return prefix


@pytest.fixture
def redis_url(redis_prefix):
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"


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
