"""POST /oauth/revoke (RFC 7009): 200 for any token; a refresh token takes its family with it, an
access token is denied until it expires; 400 OAuth errors for bad requests; no client authentication."""

import pytest

from .conftest import WITH_POSTGRESQL, bearer, login, register
from .oauth_helpers import introspect, oauth_settings, revoke

pytestmark = pytest.mark.anyio
BACKENDS_HERE = WITH_POSTGRESQL


@pytest.fixture
def settings():
    return oauth_settings()


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token"])  # a wrong hint changes nothing
async def test_revoking_a_refresh_token_ends_its_family(client, hint):
    await register(client)
    pair = await login(client)
    other = await login(client)  # another session of the same user lives on
    response = await revoke(client, pair["refresh_token"], **({"token_type_hint": hint} if hint else {}))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert (await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 401
    assert (await client.get("/auth/me", headers=bearer(pair["access_token"]))).status_code == 401
    assert await introspect(client, pair["refresh_token"]) == {"active": False}
    assert (await client.get("/auth/me", headers=bearer(other["access_token"]))).status_code == 200


async def test_revoking_an_access_token_denies_it_but_not_its_refresh_token(client):
    await register(client)
    pair = await login(client)
    assert (await revoke(client, pair["access_token"], token_type_hint="access_token")).status_code == 200
    assert (await client.get("/auth/me", headers=bearer(pair["access_token"]))).status_code == 401
    assert await introspect(client, pair["access_token"]) == {"active": False}
    refreshed = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200
    assert (await client.get("/auth/me", headers=bearer(refreshed.json()["access_token"]))).status_code == 200


async def test_revoking_twice_is_fine(client):
    await register(client)
    pair = await login(client)
    assert (await revoke(client, pair["refresh_token"])).status_code == 200
    assert (await revoke(client, pair["refresh_token"])).status_code == 200


@pytest.mark.parametrize("token", ["junk", "eyJhbGciOiJub25lIn0.e30.", "a" * 17000, "ünïcode"])
async def test_an_invalid_or_unknown_token_is_200(client, token):
    # RFC 7009 §2.2: invalid tokens do not cause an error response
    response = await revoke(client, token)
    assert response.status_code == 200
    assert response.content == b""


async def test_an_expired_token_is_200_and_revokes_nothing_else(client, clock):
    await register(client)
    pair = await login(client)
    clock.advance(10_000)  # past the access token's exp
    assert (await revoke(client, pair["access_token"])).status_code == 200


async def test_an_unknown_token_type_hint_is_400_unsupported_token_type(client):
    await register(client)
    pair = await login(client)
    response = await revoke(client, pair["refresh_token"], token_type_hint="id_token")
    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_token_type", "error_description": response.json()[
        "error_description"]}
    # nothing was revoked
    assert (await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 200


async def test_client_credentials_are_not_needed_nor_checked(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/oauth/revoke", data={"token": pair["refresh_token"], "client_id": "spa"})
    assert response.status_code == 200
    assert (await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 401
