"""Every storage adapter, for the one contract suite: memory, SQLite (a temp file), PostgreSQL."""

import pytest

from jwtkit.storage.memory import MemoryStore, open_memory_stores
from jwtkit.storage.sql import open_sql_stores


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def open_stores(backend, tmp_path, request):
    """``await open_stores()`` opens the backend's stores; a second call reopens the same data."""
    memory = MemoryStore()
    if backend == "postgresql":
        url, schema = request.getfixturevalue("postgres_url"), request.getfixturevalue("pg_schema")
    else:
        url, schema = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", None

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
