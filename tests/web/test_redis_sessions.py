"""Cookie sessions kept in Redis (``--redis``): while Redis is away (the test's own proxy is cut)
the session endpoints answer 503, never 500, and once it is back the same cookie works again.
The shared Redis is never stopped."""

from __future__ import annotations

import pytest

from jwtkit.auth.service import AuthService
from jwtkit.web import create_app
from jwtkit.wiring import open_stores

from .conftest import PASSWORD, register, serve

pytestmark = pytest.mark.anyio


async def test_session_endpoints_answer_503_while_redis_is_away_and_recover(
    postgres_url, pg_schema, redis_proxy, redis_prefix, settings, clock
):
    async def factory() -> AuthService:
        stores = await open_stores(postgres_url, schema=pg_schema, redis_url=redis_proxy.url,
                                   redis_prefix=redis_prefix)
        return await AuthService.open(settings, stores, clock=clock)

    async with serve(create_app(factory, maintenance_interval=None)) as client:
        await register(client)
        logged_in = await client.post("/session/login", json={"username": "alice", "password": PASSWORD})
        assert logged_in.status_code == 200, logged_in.text
        assert (await client.get("/session/me")).json()["username"] == "alice"

        await redis_proxy.stop()
        assert (await client.get("/session/me")).status_code == 503
        assert (await client.post("/session/logout")).status_code == 503
        await redis_proxy.start()

        assert (await client.get("/session/me")).json()["username"] == "alice"
        assert (await client.post("/session/logout")).status_code == 204
        assert (await client.get("/session/me")).status_code == 401
