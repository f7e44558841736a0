"""POST /auth/token/verify -> 200 {} or 401; POST /auth/logout with the Bearer access token -> 204,
after which the access token and the refresh family are refused."""

import pytest

from .conftest import WITH_POSTGRESQL, bearer, login, register

pytestmark = pytest.mark.anyio
BACKENDS_HERE = WITH_POSTGRESQL


async def verify(client, token):
    return await client.post("/auth/token/verify", json={"token": token})


async def test_verify_accepts_a_live_access_token_with_an_empty_object(client):
    await register(client)
    pair = await login(client)
    response = await verify(client, pair["access_token"])
    assert response.status_code == 200
    assert response.json() == {}


async def test_verify_accepts_a_live_refresh_token(client):
    await register(client)
    pair = await login(client)
    assert (await verify(client, pair["refresh_token"])).status_code == 200


@pytest.mark.parametrize("token", ["", "junk", "eyJhbGciOiJub25lIn0.e30.", "a" * 17000])
async def test_verify_refuses_garbage_with_401(client, token):
    response = await verify(client, token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_verify_refuses_a_spent_refresh_token(client):
    await register(client)
    pair = await login(client)
    await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert (await verify(client, pair["refresh_token"])).status_code == 401


async def test_verify_refuses_an_expired_access_token(client, clock, settings):
    await register(client)
    pair = await login(client)
    clock.advance(settings.access_ttl + 1)
    assert (await verify(client, pair["access_token"])).status_code == 401


async def test_logout_is_204_with_an_empty_body(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                                 headers=bearer(pair["access_token"]))
    assert response.status_code == 204
    assert response.content == b""


async def test_after_logout_the_access_token_is_refused(client):
    await register(client)
    pair = await login(client)
    await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                      headers=bearer(pair["access_token"]))
    response = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert (await verify(client, pair["access_token"])).status_code == 401


async def test_after_logout_the_refresh_token_is_refused(client):
    await register(client)
    pair = await login(client)
    await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                      headers=bearer(pair["access_token"]))
    response = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401


async def test_logout_ends_only_that_login(client):
    await register(client)
    laptop = await login(client)
    phone = await login(client)
    await client.post("/auth/logout", json={"refresh_token": laptop["refresh_token"]},
                      headers=bearer(laptop["access_token"]))
    assert (await client.get("/auth/me", headers=bearer(phone["access_token"]))).status_code == 200


async def test_logout_without_a_bearer_token_is_401_and_revokes_nothing(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401
    assert (await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 200


async def test_logout_with_another_users_refresh_token_is_401(client):
    await register(client, "alice")
    await register(client, "bob")
    alice = await login(client, "alice")
    bob = await login(client, "bob")
    response = await client.post("/auth/logout", json={"refresh_token": bob["refresh_token"]},
                                 headers=bearer(alice["access_token"]))
    assert response.status_code == 401
    assert (await client.post("/auth/token/refresh", json={"refresh_token": bob["refresh_token"]})).status_code == 200


async def test_logout_with_a_refresh_token_as_bearer_is_401(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                                 headers=bearer(pair["refresh_token"]))
    assert response.status_code == 401
