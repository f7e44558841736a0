"""An outage is never a failed login: with PostgreSQL (and Redis) cut by a loopback
proxy under a real service, ten logins with the right password each answer 503, and as soon as
the proxy is back the same user logs in at once (200), on ``/auth/token`` and ``/session/login``
alike. Before the fix every 503 was counted as a failure and the fifth locked the account out
for 300 s, beyond the outage.

The shared PostgreSQL and Redis are never stopped: only the test's own proxies are.
"""

from __future__ import annotations

import pytest

from jwtkit.auth.service import AuthService
from jwtkit.web import create_app
from jwtkit.wiring import open_stores

from .conftest import PASSWORD, register, serve

pytestmark = pytest.mark.anyio

ATTEMPTS = 10  # twice the (username, address) lock's limit


@pytest.fixture(params=["postgresql cut, redis up", "postgresql and redis cut", "postgresql cut, no redis",
                        "redis cut, postgresql up"])
def deployment(request: pytest.FixtureRequest) -> str:
    param: str = request.param
    return param


@pytest.fixture
def cut_through(deployment, postgres_proxy, request):
    """``(redis_url, redis_prefix, proxies to cut)`` of the deployment: Redis directly, through its
    own proxy (cut too, or alone), or none (the limiter then counts in the database). Resolved in a sync
    fixture: the Redis fixtures are async."""
    if deployment == "postgresql cut, no redis":
        return None, "jwtkit:", [postgres_proxy]
    prefix = request.getfixturevalue("redis_prefix")
    if deployment == "postgresql and redis cut":
        redis_proxy = request.getfixturevalue("redis_proxy")
        return redis_proxy.url, prefix, [postgres_proxy, redis_proxy]
    if deployment == "redis cut, postgresql up":
        redis_proxy = request.getfixturevalue("redis_proxy")
        return redis_proxy.url, prefix, [redis_proxy]
    return request.getfixturevalue("redis_url"), prefix, [postgres_proxy]


@pytest.fixture
def outage_app(cut_through, postgres_proxy, pg_schema, settings, clock):
    """``(app, cut, restore)``: the app over PostgreSQL through ``postgres_proxy``."""
    redis_url, prefix, proxies = cut_through

    async def factory() -> AuthService:
        stores = await open_stores(postgres_proxy.postgres_url, schema=pg_schema, redis_url=redis_url,
                                   redis_prefix=prefix, poll_database=redis_url is None)
        return await AuthService.open(settings, stores, clock=clock)

    async def cut() -> None:
        for proxy in proxies:
            await proxy.stop()

    async def restore() -> None:
        for proxy in proxies:
            await proxy.start()

    return create_app(factory, maintenance_interval=None), cut, restore


async def log_in(client, path):
    return await client.post(path, json={"username": "alice", "password": PASSWORD})


@pytest.mark.parametrize("path", ["/auth/token", "/session/login"])
async def test_logins_during_an_outage_answer_503_and_never_lock_the_user_out(outage_app, path):
    app, cut, restore = outage_app
    async with serve(app) as client:
        await register(client)
        await cut()
        during = [(await log_in(client, path)).status_code for _ in range(ATTEMPTS)]
        await restore()
        after = await log_in(client, path)

    assert during == [503] * ATTEMPTS
    assert after.status_code == 200, after.text


async def test_wrong_passwords_still_count_after_an_outage(outage_app, settings):
    app, cut, restore = outage_app
    async with serve(app) as client:
        await register(client)
        await cut()
        for _ in range(ATTEMPTS):
            await log_in(client, "/auth/token")
        await restore()
        wrong = [(await client.post("/auth/token", json={"username": "alice", "password": "wrong password"}))
                 .status_code for _ in range(settings.login_max_failures + 1)]

    assert wrong == [401] * settings.login_max_failures + [429]
