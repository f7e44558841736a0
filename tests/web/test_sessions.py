"""Session mode: POST /session/login sets an HttpOnly, SameSite=Lax ``sessionid`` cookie with a
fresh id at every login; GET /session/me; POST /session/logout; forged cookies get 401."""

from http.cookies import SimpleCookie

import pytest

from .conftest import PASSWORD, register, serve

pytestmark = pytest.mark.anyio


def session_cookie(response):
    cookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):  # the device cookie comes too
        cookie.load(header)
    return cookie["sessionid"]


async def session_login(client, username="alice", password=PASSWORD):
    return await client.post("/session/login", json={"username": username, "password": password})


async def test_login_sets_an_httponly_samesite_lax_cookie(client):
    await register(client)
    response = await session_login(client)
    assert response.status_code == 200
    morsel = session_cookie(response)
    assert morsel.value
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) > 0
    assert not morsel["secure"]  # plain HTTP here


async def test_login_answers_the_user(client):
    user = await register(client)
    response = await session_login(client)
    assert response.json()["id"] == user["id"]
    assert response.json()["username"] == "alice"


async def test_the_cookie_is_secure_over_https(app):
    async with serve(app, base_url="https://testserver") as client:
        await register(client)
        response = await session_login(client)
        assert session_cookie(response)["secure"] is True


async def test_the_form_login_works_too(client):
    await register(client)
    response = await client.post("/session/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert session_cookie(response).value


async def test_session_me_answers_the_user(client):
    user = await register(client)
    await session_login(client)  # the client keeps the cookie
    response = await client.get("/session/me")
    assert response.status_code == 200
    assert response.json() == {"id": user["id"], "username": "alice"}


async def test_session_me_answers_the_bytes_and_headers_jsonresponse_would(client):
    from fastapi.responses import JSONResponse

    user = await register(client)
    await session_login(client)
    response = await client.get("/session/me")
    expected = JSONResponse({"id": user["id"], "username": "alice"})
    assert response.content == expected.body
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(expected.body))


async def test_every_login_gets_a_fresh_session_id(client):
    await register(client)
    first = session_cookie(await session_login(client)).value
    second = session_cookie(await session_login(client)).value
    assert first != second


async def test_a_client_supplied_session_id_is_never_adopted(client):
    await register(client)
    chosen = {"Cookie": "sessionid=attacker-chosen-id"}
    response = await client.post("/session/login", json={"username": "alice", "password": PASSWORD}, headers=chosen)
    assert session_cookie(response).value != "attacker-chosen-id"
    assert (await client.get("/session/me", headers=chosen)).status_code == 401


async def test_logging_in_again_ends_the_previous_session(client):
    await register(client)
    first = session_cookie(await session_login(client)).value
    await session_login(client)  # sends the first cookie along
    assert (await client.get("/session/me", headers={"Cookie": f"sessionid={first}"})).status_code == 401


async def test_logout_ends_the_session_and_clears_the_cookie(client):
    await register(client)
    sid = session_cookie(await session_login(client)).value
    response = await client.post("/session/logout")
    assert response.status_code == 204
    cleared = session_cookie(response)
    assert cleared.value == ""
    assert int(cleared["max-age"]) == 0
    assert (await client.get("/session/me", headers={"Cookie": f"sessionid={sid}"})).status_code == 401


async def test_logout_without_a_session_is_401(client):
    assert (await client.post("/session/logout")).status_code == 401


@pytest.mark.parametrize("value", ["0" * 32, "forged", "x" * 5000, "%00%ff", '"quoted"'])
async def test_forged_cookies_are_401_json(client, value):
    response = await client.get("/session/me", headers={"Cookie": f"sessionid={value}"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Cookie")


async def test_no_cookie_is_401(client):
    response = await client.get("/session/me")
    assert response.status_code == 401
    assert response.json()["error"] == "missing_credentials"


async def test_bad_credentials_are_the_same_401_as_the_token_endpoint(client):
    await register(client)
    unknown = await session_login(client, "mallory")
    wrong = await session_login(client, "alice", "wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.content == wrong.content
    assert "set-cookie" not in unknown.headers


async def test_an_expired_session_is_401(client, clock, settings):
    await register(client)
    await session_login(client)
    clock.advance(settings.session_ttl + 1)
    assert (await client.get("/session/me")).status_code == 401


async def test_a_bearer_token_does_not_open_a_session(client):
    await register(client)
    token = (await client.post("/auth/token", json={"username": "alice", "password": PASSWORD})).json()
    cookie = {"Cookie": f"sessionid={token['access_token']}"}
    assert (await client.get("/session/me", headers=cookie)).status_code == 401
