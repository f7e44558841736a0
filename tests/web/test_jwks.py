"""GET /.well-known/jwks.json: the public keys that verify our tokens, never a private member."""

import pytest

import jwtkit

from .conftest import login, register

pytestmark = pytest.mark.anyio

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


async def test_jwks_lists_public_keys_only(client):
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for jwk in keys:
        assert not PRIVATE_MEMBERS & set(jwk), jwk
        assert jwk["kid"]


async def test_jwks_verifies_the_access_tokens_we_issue(client):
    await register(client)
    token = (await login(client))["access_token"]
    keyset = jwtkit.KeySet.from_jwks((await client.get("/.well-known/jwks.json")).json())
    claims = jwtkit.decode(token, keyset, algorithms=["ES256"], now=jwtkit.decode_unverified(token)[1]["iat"])
    assert claims["token_type"] == "access"


async def test_jwks_after_a_rotation_publishes_old_and_new_keys(client, app):
    await register(client)
    token = (await login(client))["access_token"]
    old_kid = jwtkit.decode_unverified(token)[0]["kid"]
    new_kid = await app.state.service.rotate_keys()
    kids = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= kids
    assert (await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    fresh = (await login(client))["access_token"]
    assert jwtkit.decode_unverified(fresh)[0]["kid"] == new_kid
