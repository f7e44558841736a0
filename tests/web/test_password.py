"""POST /auth/password (issue 14): with an access token and the current password, the password
changes, every session of the user ends (the caller's too unless ``keep_current_session``), and
the answer is a fresh pair; a wrong current password is a 400 ``wrong_password`` counted by the
login throttle (429 after the limit, on this route and on login)."""

import pytest

from .conftest import PASSWORD, WITH_POSTGRESQL, bearer, login, register

pytestmark = pytest.mark.anyio
BACKENDS_HERE = WITH_POSTGRESQL

NEW = "a brand new passphrase"


async def change(client, access_token, current=PASSWORD, new=NEW, **extra):
    return await client.post("/auth/password", json={"current_password": current, "new_password": new, **extra},
                             headers=bearer(access_token))


async def me(client, access_token):
    return (await client.get("/auth/me", headers=bearer(access_token))).status_code


async def test_a_password_change_answers_a_fresh_pair_and_ends_every_other_session(client):
    user = await register(client)
    this, other = await login(client), await login(client)
    response = await change(client, this["access_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    pair = response.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (await client.get("/auth/me", headers=bearer(pair["access_token"]))).json() == user
    assert await me(client, this["access_token"]) == 401
    assert await me(client, other["access_token"]) == 401
    for old in (this, other):
        refreshed = await client.post("/auth/token/refresh", json={"refresh_token": old["refresh_token"]})
        assert refreshed.status_code == 401
    assert (await client.post("/auth/token/refresh", json={"refresh_token": pair["refresh_token"]})).status_code == 200
    assert (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).status_code == 401
    assert (await client.post("/auth/token", json={"username": "alice", "password": NEW})).status_code == 200


async def test_keep_current_session_spares_the_callers_session(client):
    await register(client)
    this, other = await login(client), await login(client)
    assert (await change(client, this["access_token"], keep_current_session=True)).status_code == 200
    assert await me(client, this["access_token"]) == 200
    assert await me(client, other["access_token"]) == 401


async def test_cookie_sessions_end_too(client):
    await register(client)
    assert (await client.post("/session/login", json={"username": "alice", "password": PASSWORD})).status_code == 200
    assert (await client.get("/session/me")).status_code == 200
    assert (await change(client, (await login(client))["access_token"])).status_code == 200
    assert (await client.get("/session/me")).status_code == 401


async def test_a_wrong_current_password_is_400_and_changes_nothing(client):
    await register(client)
    pair = await login(client)
    response = await change(client, pair["access_token"], current="wrong password")
    assert response.status_code == 400
    assert response.json() == {"error": "wrong_password", "message": "the current password is wrong"}
    assert "www-authenticate" not in response.headers  # the token is fine: nothing to refresh or log in again for
    assert await me(client, pair["access_token"]) == 200
    assert (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).status_code == 200


async def test_wrong_current_passwords_count_toward_login_throttling(client, settings):
    await register(client)
    pair = await login(client)
    for _ in range(settings.login_max_failures):
        assert (await change(client, pair["access_token"], current="wrong password")).status_code == 400
    throttled = await change(client, pair["access_token"])  # the right one: refused while locked
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    client.cookies.clear()  # no device cookie (an attacker's client): the login is locked too
    assert (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).status_code == 429


async def test_a_new_password_against_the_policy_is_422_naming_the_field(client):
    await register(client)
    response = await change(client, (await login(client))["access_token"], new="short")
    assert response.status_code == 422
    assert [field["field"] for field in response.json()["fields"]] == ["new_password"]


async def test_it_needs_a_live_access_token(client):
    await register(client)
    pair = await login(client)
    assert (await client.post("/auth/password", json={"current_password": PASSWORD, "new_password": NEW})
            ).status_code == 401
    await client.post("/auth/logout", json={"refresh_token": pair["refresh_token"]},
                      headers=bearer(pair["access_token"]))
    response = await change(client, pair["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert (await change(client, pair["refresh_token"])).status_code == 401  # not an access token


async def test_the_body_is_checked(client):
    await register(client)
    pair = await login(client)
    missing = await client.post("/auth/password", json={"current_password": PASSWORD},
                                headers=bearer(pair["access_token"]))
    assert missing.status_code == 422
    wrong_type = await change(client, pair["access_token"], keep_current_session="yes")
    assert wrong_type.status_code == 422
