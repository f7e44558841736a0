"""Every storage adapter, for the one contract suite: memory, SQLite (a temp file), PostgreSQL."""

import pytest

from jwtkit.storage.memory import MemoryStore, open_memory_stores
from jwtkit.storage.sql import open_sql_stores


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request):
    return request.param


def database_of(backend, tmp_path, request):
    """``(url, PostgreSQL schema)`` of a fresh database for this test: ``"sqlite"`` (a temp file)
    or ``"postgresql"`` (a fresh schema)."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")
    return f"sqlite+aiosqlite:///{tmp_path / 'jwtkit.db'}", None


@pytest.fixture
def database_for(tmp_path, request):
    """``database_for(backend)``: :func:`database_of` for a fixture that picks the backend itself."""
    return lambda backend: database_of(backend, tmp_path, request)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """``(url, PostgreSQL schema)`` of a fresh SQL database: the test runs on SQLite and on PostgreSQL."""
    return database_of(request.param, tmp_path, request)


@pytest.fixture
def open_stores(backend, tmp_path, request):
    """``await open_stores()`` opens the backend's stores; a second call reopens the same data."""
    memory = MemoryStore()
    url, schema = database_of(backend, tmp_path, request) if backend != "memory" else (None, None)

    async def open_():
        if backend == "memory":
            return open_memory_stores(memory)
        return await open_sql_stores(url, schema=schema)

    return open_


@pytest.fixture
async def stores(open_stores):
    opened = await open_stores()
    yield opened
    await opened.close()
