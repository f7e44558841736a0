"""``GET /health/ready``: 200 when storage answers and the revocation feed is in sync; 503 naming the
part that is not, with PostgreSQL or Redis really cut (the suite's loopback proxies; the shared
servers are never touched) or PostgreSQL hung (a proxy that swallows every byte): the probe still
answers, bounded. ``/health`` (liveness) stays cheap and unchanged throughout."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from jwtkit.auth.service import AuthService
from jwtkit.web import create_app
from jwtkit.wiring import open_stores

from .conftest import serve

pytestmark = pytest.mark.anyio

WAIT = 20.0  # seconds a test waits for the state it expects (the feed notices an outage within about 1 s)


async def ready(client):
    response = await client.get("/health/ready")
    return response.status_code, response.json()


async def until(client, status: int):
    """Poll readiness until it answers ``status``; the last answer."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        answer = await ready(client)
        if answer[0] == status or asyncio.get_running_loop().time() > deadline:
            return answer
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql+redis"], indirect=True)
async def test_ready_names_each_part(client, backend):
    status, body = await ready(client)
    assert status == 200
    assert body == {"status": "ready", "checks": {"storage": "ok", "revocation_feed": "ok"}}
    assert (await client.get("/health")).json() == {"status": "ok"}


def app_over(postgres_url: str, schema: str, redis_url: str | None, prefix: str, settings, clock):
    async def factory() -> AuthService:
        stores = await open_stores(postgres_url, schema=schema, redis_url=redis_url, redis_prefix=prefix,
                                   poll_database=redis_url is None)
        return await AuthService.open(settings, stores, clock=clock)

    return create_app(factory, maintenance_interval=None,
                      feed_check="revocation_feed" if redis_url is None else "redis")


async def test_postgresql_cut_is_not_ready_and_back_is_ready(postgres_proxy, pg_schema, settings, clock):
    app = app_over(postgres_proxy.postgres_url, pg_schema, None, "jwtkit:", settings, clock)
    async with serve(app) as client:
        assert (await ready(client))[0] == 200
        await postgres_proxy.stop()
        status, body = await until(client, 503)
        assert status == 503
        assert body["error"] == "not_ready"
        assert body["checks"]["storage"] == "unavailable"
        assert "storage" in body["message"]
        assert (await client.get("/health")).status_code == 200  # alive, just not ready
        await postgres_proxy.start()
        status, body = await until(client, 200)
        assert status == 200, body


async def test_redis_cut_is_not_ready_while_storage_is_fine(postgres_url, pg_schema, redis_proxy, redis_prefix,
                                                            settings, clock):
    app = app_over(postgres_url, pg_schema, redis_proxy.url, redis_prefix, settings, clock)
    async with serve(app) as client:
        assert await ready(client) == (200, {"status": "ready", "checks": {"storage": "ok", "redis": "ok"}})
        await redis_proxy.stop()
        status, body = await until(client, 503)
        assert status == 503
        assert body["checks"] == {"storage": "ok", "redis": "stale"}
        await redis_proxy.start()
        status, body = await until(client, 200)
        assert status == 200, body


class SwallowingProxy:
    """A loopback TCP proxy to PostgreSQL that, once ``hang()`` is called, forwards nothing more in
    either direction while keeping every connection open: a database that stopped answering."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0
        self.hung = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def hang(self) -> None:
        self.hung = True

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()

    async def _serve(self, client_reader, client_writer) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        self._writers.update((client_writer, upstream_writer))

        async def pipe(reader, writer) -> None:
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    if not self.hung:
                        writer.write(data)
                        await writer.drain()
            writer.close()

        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))


async def test_a_hung_postgresql_times_out_instead_of_hanging_the_probe(postgres_url, pg_schema, settings, clock):
    from sqlalchemy import make_url

    url = make_url(postgres_url)
    proxy = SwallowingProxy((url.host or "127.0.0.1", url.port or 5432))
    await proxy.start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = app_over(through, pg_schema, None, "jwtkit:", settings, clock)
    try:
        async with serve(app) as client:
            assert (await ready(client))[0] == 200
            proxy.hang()
            status, body = await ready(client)  # answers (a hang would be this test's timeout)
            await proxy.close()  # let the service's connections fail, so it closes quickly
    finally:
        await proxy.close()
    assert status == 503
    assert body["checks"]["storage"] == "timeout"  # our cap or the store's own statement timeout bounded it
