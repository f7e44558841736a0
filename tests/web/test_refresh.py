"""POST /auth/token/refresh: rotation, reuse detection that revokes the family (RFC 9700 §4.14),
and the race: of N concurrent refreshes with one token exactly one succeeds."""

import asyncio

import pytest

import jwtkit

from .conftest import WITH_POSTGRESQL, bearer, login, register

pytestmark = pytest.mark.anyio
BACKENDS_HERE = WITH_POSTGRESQL


async def refresh(client, token):
    return await client.post("/auth/token/refresh", json={"refresh_token": token})


async def test_refresh_returns_a_new_pair_in_the_same_family(client):
    await register(client)
    first = await login(client)
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["token_type"] == "Bearer"
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    fid = jwtkit.decode_unverified(first["refresh_token"])[1]["fid"]
    assert jwtkit.decode_unverified(second["refresh_token"])[1]["fid"] == fid
    assert (await client.get("/auth/me", headers=bearer(second["access_token"]))).status_code == 200


async def test_a_refreshed_token_keeps_rotating(client):
    await register(client)
    token = (await login(client))["refresh_token"]
    for _ in range(3):
        response = await refresh(client, token)
        assert response.status_code == 200
        token = response.json()["refresh_token"]


async def test_reusing_a_spent_refresh_token_is_401(client):
    await register(client)
    stolen = (await login(client))["refresh_token"]
    assert (await refresh(client, stolen)).status_code == 200
    response = await refresh(client, stolen)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_reuse_revokes_the_whole_family_for_thief_and_user(client):
    await register(client)
    stolen = (await login(client))["refresh_token"]
    thief = (await refresh(client, stolen)).json()  # the thief rotates first
    assert (await refresh(client, stolen)).status_code == 401  # the user's (stale) token: reuse
    assert (await refresh(client, thief["refresh_token"])).status_code == 401
    assert (await client.get("/auth/me", headers=bearer(thief["access_token"]))).status_code == 401


async def test_reuse_in_one_family_leaves_other_logins_alive(client):
    await register(client)
    laptop = await login(client)
    phone = await login(client)
    await refresh(client, laptop["refresh_token"])
    await refresh(client, laptop["refresh_token"])  # reuse in the laptop's family
    assert (await client.get("/auth/me", headers=bearer(phone["access_token"]))).status_code == 200
    assert (await refresh(client, phone["refresh_token"])).status_code == 200


async def test_an_access_token_is_not_a_refresh_token(client):
    await register(client)
    pair = await login(client)
    response = await refresh(client, pair["access_token"])
    assert response.status_code == 401
    assert (await refresh(client, pair["refresh_token"])).status_code == 200  # nothing was spent


@pytest.mark.parametrize("token", ["", "junk", "a.b.c", "x" * 20000])
async def test_garbage_refresh_tokens_are_401(client, token):
    response = await refresh(client, token)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "message": "The token is not valid: log in again"}


async def test_an_expired_refresh_token_is_401(client, clock, settings):
    await register(client)
    pair = await login(client)
    clock.advance(settings.refresh_ttl + 1)
    assert (await refresh(client, pair["refresh_token"])).status_code == 401


async def test_concurrent_refreshes_of_one_token_let_exactly_one_through(client):
    await register(client)
    token = (await login(client))["refresh_token"]
    responses = await asyncio.gather(*(refresh(client, token) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 1
    assert statuses.count(401) == 19
