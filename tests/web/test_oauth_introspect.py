"""POST /oauth/introspect (RFC 7662): only for the configured client (HTTP Basic or
client_secret_post, 401 + ``WWW-Authenticate: Basic`` otherwise, 404 with no secret configured);
``{"active": false}`` for anything not valid now; the RFC's members for live tokens."""

import base64

import pytest

import jwtkit
from jwtkit.auth.settings import AuthSettings

from .conftest import FAST_HASHING, WITH_POSTGRESQL, login, register
from .oauth_helpers import BASIC, CLIENT_ID, SECRET, introspect, oauth_settings

pytestmark = pytest.mark.anyio
BACKENDS_HERE = WITH_POSTGRESQL


@pytest.fixture
def settings():
    return oauth_settings()


async def test_a_live_access_token_is_active_with_its_claims(client, settings):
    user = await register(client)
    pair = await login(client)
    body = await introspect(client, pair["access_token"], token_type_hint="access_token")
    _, claims = jwtkit.decode_unverified(pair["access_token"])
    assert body == {"active": True, "username": "alice", "token_type": "Bearer", "token_use": "access_token",
                    "sub": str(user["id"]), "jti": claims["jti"], "iat": claims["iat"], "exp": claims["exp"]}
    assert body["exp"] - body["iat"] == settings.access_ttl


async def test_a_live_refresh_token_is_active_with_its_user(client):
    await register(client)
    pair = await login(client)
    body = await introspect(client, pair["refresh_token"], token_type_hint="access_token")  # a wrong hint is fine
    assert body["active"] is True
    assert body["token_use"] == "refresh_token"
    assert body["username"] == "alice"
    assert "token_type" not in body


async def test_a_spent_refresh_token_is_inactive(client):
    await register(client)
    pair = await login(client)
    assert (await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 200
    assert await introspect(client, pair["refresh_token"]) == {"active": False}


async def test_tokens_of_a_logged_out_session_are_inactive(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                                 headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert response.status_code == 204
    assert await introspect(client, pair["access_token"]) == {"active": False}
    assert await introspect(client, pair["refresh_token"]) == {"active": False}


async def test_an_expired_token_is_inactive(client, clock):
    await register(client)
    pair = await login(client)
    clock.advance(10_000)
    assert await introspect(client, pair["access_token"]) == {"active": False}


async def test_another_signature_is_inactive(client):
    await register(client)
    pair = await login(client)
    _, claims = jwtkit.decode_unverified(pair["access_token"])
    forged = jwtkit.encode(claims, jwtkit.Key.generate("ES256", kid="evil"))
    assert await introspect(client, forged) == {"active": False}


@pytest.mark.parametrize("token", ["junk", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "a" * 17000, "\u00e9"])
async def test_junk_is_inactive(client, token):
    assert await introspect(client, token) == {"active": False}


async def test_client_secret_post_authenticates_too(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/oauth/introspect", data={"token": pair["access_token"], "client_id": CLIENT_ID,
                                                            "client_secret": SECRET})
    assert response.status_code == 200
    assert response.json()["active"] is True


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


@pytest.mark.parametrize("headers", [
    {},
    _basic(CLIENT_ID, "wrong-wrong-wrong-wrong"),
    _basic("someone-else", SECRET),
    _basic(CLIENT_ID, SECRET[:-1]),
    {"Authorization": "Basic !!!not-base64"},
    {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
    {"Authorization": "Bearer " + "x" * 20},
])
async def test_no_or_wrong_credentials_are_401_invalid_client(client, headers):
    response = await client.post("/oauth/introspect", data={"token": "junk"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"
    assert SECRET not in response.text


async def test_a_wrong_posted_secret_is_401(client):
    response = await client.post("/oauth/introspect", data={"token": "junk", "client_id": CLIENT_ID,
                                                            "client_secret": "wrong"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_two_authentication_methods_are_400(client):
    response = await client.post("/oauth/introspect", data={"token": "junk", "client_id": CLIENT_ID,
                                                            "client_secret": SECRET}, auth=BASIC)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_no_token_is_400_invalid_request(client):
    response = await client.post("/oauth/introspect", data={}, auth=BASIC)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("settings", [AuthSettings(**FAST_HASHING)])
async def test_without_a_secret_the_endpoint_is_404(client, settings):
    response = await client.post("/oauth/introspect", data={"token": "junk"}, auth=BASIC)
    assert response.status_code == 404
    meta = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert "introspection_endpoint" not in meta
