"""Shared fixtures for the whole suite."""


# ---- PostgreSQL for the storage and auth suites (helper F) -------------------------------------
# Under CI a missing PostgreSQL fails the tests that need it; elsewhere they skip (STYLE.md §22).
import asyncio
import os
import secrets
import socket

import pytest

POSTGRES_URL = os.environ.get("JWTKIT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _postgres_listening() -> bool:
    from sqlalchemy import make_url

    url = make_url(POSTGRES_URL)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL URL for tests; fails under CI when the server is down, skips otherwise."""
    if not _postgres_listening():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} and CI is set")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    return POSTGRES_URL


@pytest.fixture
def pg_schema(postgres_url: str):
    """A fresh schema name for one test (so parallel runs never collide), dropped afterwards."""
    name = f"jwtkit_t{os.getpid()}_{secrets.token_hex(4)}"
    yield name

    async def drop() -> None:
        import asyncpg
        from sqlalchemy import make_url

        url = make_url(postgres_url)
        conn = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
        )
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())
