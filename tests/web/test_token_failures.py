"""What a 401 tells a client: an expired token says when it expired and to refresh; a
revoked token or a reused refresh token says the session ended (log in again); anything a forger
could learn from gets one generic sentence. The challenge's ``error_description`` says the same."""

import pytest

import jwtkit

from .conftest import bearer, login, register

pytestmark = pytest.mark.anyio

GENERIC = "The token is not valid: log in again"


def description(response) -> str:
    challenge = response.headers["www-authenticate"]
    return challenge.split('error_description="', 1)[1].rstrip('"')


async def test_an_expired_access_token_says_when_it_expired_and_to_refresh(client, clock, settings):
    await register(client)
    pair = await login(client)
    exp = jwtkit.decode_unverified(pair["access_token"])[1]["exp"]
    clock.advance(settings.access_ttl + 120)
    response = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_token"
    assert body["expired_at"] == exp
    assert "expired" in body["message"]
    assert "/auth/token/refresh" in body["message"]
    assert description(response) == body["message"]


async def test_an_expired_refresh_token_says_to_log_in_again(client, clock, settings):
    await register(client)
    pair = await login(client)
    clock.advance(settings.refresh_ttl + 1)
    response = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401
    assert "expired" in response.json()["message"]
    assert "log in again" in response.json()["message"]


async def test_a_revoked_access_token_says_the_session_ended(client):
    await register(client)
    pair = await login(client)
    logout = await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                               headers=bearer(pair["access_token"]))
    assert logout.status_code == 204
    response = await client.get("/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 401
    assert "session has ended" in response.json()["message"]
    assert "expired_at" not in response.json()
    assert description(response) == response.json()["message"]


async def test_a_reused_refresh_token_says_the_session_ended(client):
    await register(client)
    pair = await login(client)
    first = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert first.status_code == 200
    again = await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401
    assert "session has ended" in again.json()["message"]


async def test_a_forged_expired_token_gets_the_generic_sentence(client, clock, settings):
    # an attacker's own key and a past exp: no word about expiry, which would prove nothing was checked
    await register(client)
    forger = jwtkit.Key.generate("ES256")
    forged = jwtkit.encode({"token_type": "access", "user_id": 1, "username": "alice", "jti": "j", "fid": "f",
                            "exp": int(clock()) - 60}, forger)
    response = await client.get("/auth/me", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "message": GENERIC}
    assert description(response) == GENERIC


async def test_a_tampered_token_gets_the_generic_sentence(client):
    await register(client)
    header, payload, signature = (await login(client))["access_token"].split(".")
    response = await client.get("/auth/me", headers=bearer(f"{header}.{payload}.{signature[:-4]}AAAA"))
    assert response.json() == {"error": "invalid_token", "message": GENERIC}


async def test_refresh_accepts_the_rfc_6749_form(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/auth/token/refresh",
                                 data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]})
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert response.headers["cache-control"] == "no-store"


async def test_refresh_with_another_grant_type_is_400_unsupported_grant_type(client):
    await register(client)
    pair = await login(client)
    response = await client.post("/auth/token/refresh",
                                 data={"grant_type": "password", "refresh_token": pair["refresh_token"]})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    # nothing was spent
    assert (await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 200


async def test_a_refresh_form_without_the_token_is_422_naming_it(client):
    response = await client.post("/auth/token/refresh", data={"grant_type": "refresh_token"})
    assert response.status_code == 422
    assert response.json()["fields"] == [{"field": "refresh_token", "reason": "Field required"}]


async def test_refresh_with_neither_json_nor_a_form_is_415(client):
    response = await client.post("/auth/token/refresh", content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
