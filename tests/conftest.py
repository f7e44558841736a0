"""Shared fixtures for the whole suite."""

import asyncio
import contextlib
import os
import secrets
import socket

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio: the server and its adapters are asyncio-only."""
    return "asyncio"


# ---- PostgreSQL for the storage and auth suites -------------------------------------------------
# Under CI a missing PostgreSQL fails the tests that need it; elsewhere they skip.
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


# ---- Redis for the storage and auth suites ------------------------------------------------------
# db 15 with a random key prefix per test, cleaned up afterwards; under CI a missing Redis fails.
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 15


@pytest.fixture
async def redis():
    """An asyncio Redis client on the test database; fails under CI when Redis is down, skips otherwise."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_connect_timeout=1)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI but {REDIS_HOST}:{REDIS_PORT} does not answer: {exc!r}")
        pytest.skip(f"Redis is not running on {REDIS_HOST}:{REDIS_PORT} ({exc!r})")
    yield client
    await client.aclose()


@pytest.fixture
def redis_url(redis_prefix):
    """The test Redis as a URL (db 15); requesting it checks Redis answers and gets a fresh prefix."""
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"


@pytest.fixture
def redis_prefix(prefix):
    """The test's Redis key prefix (``prefix``), under the name the server settings use."""
    return prefix


@pytest.fixture
async def prefix(redis):
    """A fresh key prefix for one test; every key under it is deleted afterwards."""
    prefix = f"jwtkit-test:{secrets.token_hex(6)}:"
    yield prefix
    keys = [key async for key in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)


class TcpProxy:
    """A loopback TCP proxy to Redis (or to ``upstream``) that can be stopped (the server "goes
    away" for whoever connects through it) and started again on the same port, without touching
    the shared server."""

    def __init__(self, upstream: tuple[str, int] = (REDIS_HOST, REDIS_PORT)) -> None:
        self.upstream = upstream
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{REDIS_DB}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        writers = list(self._writers)
        for writer in writers:
            writer.close()
        for writer in writers:  # closed for real (the peers see the end) before stop() returns
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, client_reader, client_writer) -> None:
        import contextlib

        upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        self._writers.update((client_writer, upstream_writer))

        async def pipe(reader, writer) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        try:
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
        finally:
            self._writers.difference_update((client_writer, upstream_writer))


@pytest.fixture
async def redis_proxy(redis):
    """A started :class:`TcpProxy` in front of the test Redis, stopped at the end."""
    proxy = TcpProxy()
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def postgres_proxy(postgres_url):
    """A started :class:`TcpProxy` in front of the test PostgreSQL, stopped at the end: ``.url``
    is ``postgres_url`` through it. Stopping it is a PostgreSQL outage for whoever connects
    through it; the shared server is never touched."""
    from sqlalchemy import make_url

    url = make_url(postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    await proxy.start()
    proxy.postgres_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yield proxy
    await proxy.stop()
